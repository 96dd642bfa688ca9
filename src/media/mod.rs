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
pub fn configure(cfg: &mut impl crate::http::RouteConfig) {
    cfg.service(handlers::list_media)
        .service(handlers::upload_media)
        .service(handlers::get_media)
        .service(handlers::update_media)
        .service(handlers::delete_media)
        .service(handlers::get_media_file)
        .service(handlers::get_media_variant);
}

/// Uploads read into memory at once: each holds up to `MEDIA_MAX_BYTES`.
pub const CONCURRENT_UPLOADS: usize = 8;
/// Uploads one user or key may have in flight; more are a 429.
pub const UPLOADS_PER_CALLER: usize = 2;
/// How long an upload waits for one of the [`CONCURRENT_UPLOADS`] slots
/// before it is refused (503 with `Retry-After`).
pub const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

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
    /// Uploads in flight per caller (`u{id}` or `k{id}`), for [`UPLOADS_PER_CALLER`].
    pub in_flight: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
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
            in_flight: Default::default(),
            processing: Arc::new(tokio::sync::Semaphore::new(cores)),
        })
    }
}

/// One caller's upload in flight; the count drops when this does.
pub struct CallerSlot {
    map: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
    caller: String,
}

impl MediaState {
    /// Counts an upload for `caller`, or `None` when they already have
    /// [`UPLOADS_PER_CALLER`] in flight.
    pub fn caller_slot(&self, caller: String) -> Option<CallerSlot> {
        let mut map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(caller.clone()).or_insert(0);
        if *n >= UPLOADS_PER_CALLER {
            return None;
        }
        *n += 1;
        Some(CallerSlot { map: self.in_flight.clone(), caller })
    }
}

impl Drop for CallerSlot {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.caller) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.caller);
            }
        }
    }
}
