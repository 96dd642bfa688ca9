//! Media library: uploads with alt text, caption and credit, resized
//! variants, and files served from an object store (local or S3).

pub mod dto;
pub mod handlers;
pub mod model;
pub mod process;
pub mod repo;
pub mod service;
pub mod store;

use std::sync::Arc;

use crate::config::Settings;

/// Registers the media routes under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_media)
        .service(handlers::upload_media)
        .service(handlers::get_media)
        .service(handlers::update_media)
        .service(handlers::delete_media)
        .service(handlers::get_media_file)
        .service(handlers::get_media_variant);
}

/// Uploads read into memory at once: each holds up to `MEDIA_MAX_BYTES`.
pub const CONCURRENT_UPLOADS: usize = 4;

/// Shared media state: the store, the upload policy and the limits on
/// concurrent work.
#[derive(Clone, Debug)]
pub struct MediaState {
    /// Where files live.
    pub store: store::MediaStore,
    /// What may be uploaded.
    pub policy: process::Policy,
    /// `MEDIA_MAX_BYTES`.
    pub max_bytes: u64,
    /// `MEDIA_UPLOAD_IDLE_TIMEOUT_SECONDS`.
    pub idle_timeout: std::time::Duration,
    /// `MEDIA_SIGNED_REDIRECT_SECONDS` (S3 only).
    pub signed_redirect_secs: Option<u64>,
    /// Bounds uploads being received ([`CONCURRENT_UPLOADS`]), so memory is
    /// bounded by `CONCURRENT_UPLOADS × MEDIA_MAX_BYTES`.
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// Bounds image decoding (a 50 MP image decodes to ~200 MB) to the
    /// number of cores.
    pub processing: Arc<tokio::sync::Semaphore>,
}

impl MediaState {
    /// Opens the store and reads the limits from `settings`.
    ///
    /// Errors: the store cannot be opened (see [`store::MediaStore::open`]).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let m = &settings.media;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).min(8);
        Ok(Self {
            store: store::MediaStore::open(&m.store, &m.s3_config)?,
            policy: process::Policy {
                allowed_types: m.allowed_types.clone(),
                allow_svg: m.allow_svg,
                max_pixels: m.max_pixels,
            },
            max_bytes: m.max_bytes,
            signed_redirect_secs: m.signed_redirect_secs,
            idle_timeout: std::time::Duration::from_secs(m.upload_idle_timeout_secs),
            uploads: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_UPLOADS)),
            processing: Arc::new(tokio::sync::Semaphore::new(cores)),
        })
    }
}
