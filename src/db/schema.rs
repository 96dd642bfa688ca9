//! Diesel table definitions, written by hand to match `migrations/sqlite` and
//! `migrations/postgres` (both trees produce these same portable types).

diesel::table! {
    media (id) {
        id -> BigInt,
        file_name -> Text,
        mime_type -> Nullable<Text>,
        byte_size -> Nullable<BigInt>,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        title -> Nullable<Text>,
        alt_text -> Nullable<Text>,
        caption -> Nullable<Text>,
        credit -> Nullable<Text>,
        source_url -> Nullable<Text>,
        import_source -> Nullable<Text>,
        import_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        kind -> Text,
        sha256 -> Nullable<Text>,
        storage_key -> Nullable<Text>,
        variants -> Text,
        uploaded_by -> Nullable<BigInt>,
        search_text -> Text,
        shared -> Bool,
    }
}

diesel::table! {
    authors (id) {
        id -> BigInt,
        slug -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        bio -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        website -> Nullable<Text>,
        import_source -> Nullable<Text>,
        import_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        avatar_media_id -> Nullable<BigInt>,
        social_links -> Text,
    }
}

diesel::table! {
    categories (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        parent_id -> Nullable<BigInt>,
        import_source -> Nullable<Text>,
        import_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        meta_title -> Nullable<Text>,
        meta_description -> Nullable<Text>,
    }
}

diesel::table! {
    category_slug_history (slug) {
        slug -> Text,
        term_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tags (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        import_source -> Nullable<Text>,
        import_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        meta_title -> Nullable<Text>,
        meta_description -> Nullable<Text>,
    }
}

diesel::table! {
    tag_slug_history (slug) {
        slug -> Text,
        term_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    articles (id) {
        id -> BigInt,
        slug -> Text,
        title -> Text,
        subtitle -> Nullable<Text>,
        excerpt -> Nullable<Text>,
        body_html -> Text,
        status -> Text,
        published_at -> Nullable<Timestamp>,
        featured_media_id -> Nullable<BigInt>,
        comment_status -> Text,
        is_sticky -> Bool,
        password_protected -> Bool,
        import_source -> Nullable<Text>,
        import_key -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        body_format -> Text,
        body_source -> Text,
        body_text -> Text,
        word_count -> Integer,
        reading_time_minutes -> Integer,
        series_id -> Nullable<BigInt>,
        series_position -> Nullable<Integer>,
        featured_caption -> Nullable<Text>,
        featured_credit -> Nullable<Text>,
        meta_title -> Nullable<Text>,
        meta_description -> Nullable<Text>,
        canonical_url -> Nullable<Text>,
        og_image_media_id -> Nullable<BigInt>,
        owner_id -> Nullable<BigInt>,
        version -> Integer,
        password_hash -> Nullable<Text>,
    }
}

diesel::table! {
    article_authors (article_id, author_id) {
        article_id -> BigInt,
        author_id -> BigInt,
        position -> Integer,
    }
}

diesel::table! {
    article_categories (article_id, category_id) {
        article_id -> BigInt,
        category_id -> BigInt,
    }
}

diesel::table! {
    article_tags (article_id, tag_id) {
        article_id -> BigInt,
        tag_id -> BigInt,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        article_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        author_name -> Text,
        author_email -> Nullable<Text>,
        author_url -> Nullable<Text>,
        body -> Text,
        status -> Text,
        kind -> Text,
        import_source -> Nullable<Text>,
        import_key -> Nullable<Text>,
        created_at -> Timestamp,
        reader_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        author_role -> Nullable<Text>,
        body_source -> Nullable<Text>,
        edit_token_hash -> Nullable<Text>,
        ip -> Nullable<Text>,
        notify_replies -> Bool,
        removed -> Bool,
        up_count -> Integer,
        down_count -> Integer,
        score -> Integer,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(articles -> media (featured_media_id));

diesel::joinable!(article_authors -> articles (article_id));

diesel::joinable!(article_authors -> authors (author_id));

diesel::joinable!(article_categories -> articles (article_id));

diesel::joinable!(article_categories -> categories (category_id));

diesel::joinable!(article_tags -> articles (article_id));

diesel::joinable!(article_tags -> tags (tag_id));

diesel::joinable!(comments -> articles (article_id));

diesel::joinable!(category_slug_history -> categories (term_id));

diesel::joinable!(tag_slug_history -> tags (term_id));

diesel::table! {
    /// Articles per status, in all (`kind` 'all', `ref_id` 0) and per
    /// category, tag and author: kept by triggers (migration
    /// `000190_article_tallies`), read for list totals.
    article_tallies (kind, ref_id, status) {
        kind -> Text,
        ref_id -> BigInt,
        status -> Text,
        n -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    article_tallies,
    media,
    authors,
    categories,
    tags,
    articles,
    article_authors,
    article_categories,
    article_tags,
    comments,
    category_slug_history,
    tag_slug_history,
);

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        author_id -> Nullable<BigInt>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        family_id -> Text,
        refresh_token_hash -> Text,
        expires_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        scopes -> Text,
        key_prefix -> Text,
        key_hash -> Text,
        created_by -> Nullable<BigInt>,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (generation) {
        generation -> BigInt,
        kid -> Text,
        secret -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
        not_after -> Nullable<Timestamp>,
    }
}

diesel::table! {
    content_generation (id) {
        id -> Integer,
        generation -> BigInt,
    }
}

diesel::joinable!(sessions -> users (user_id));

diesel::joinable!(users -> authors (author_id));

diesel::allow_tables_to_appear_in_same_query!(users, sessions, api_keys, authors);

diesel::table! {
    series (id) {
        id -> BigInt,
        slug -> Text,
        title -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    article_slug_history (slug) {
        slug -> Text,
        article_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    article_update_notes (id) {
        id -> BigInt,
        article_id -> BigInt,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    article_revisions (id) {
        id -> BigInt,
        article_id -> BigInt,
        user_id -> Nullable<BigInt>,
        changed_fields -> Text,
        snapshot -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    article_previews (id) {
        id -> BigInt,
        article_id -> BigInt,
        token_hash -> Text,
        user_id -> Nullable<BigInt>,
        session_family -> Nullable<Text>,
        api_key_id -> Nullable<BigInt>,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(article_previews -> articles (article_id));

diesel::joinable!(articles -> series (series_id));

diesel::joinable!(article_slug_history -> articles (article_id));

diesel::allow_tables_to_appear_in_same_query!(
    series,
    article_slug_history,
    article_update_notes,
    article_revisions,
    article_previews,
    articles,
    users,
);

diesel::allow_tables_to_appear_in_same_query!(article_previews, sessions);

diesel::allow_tables_to_appear_in_same_query!(article_previews, api_keys);

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        run_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        locked_by -> Nullable<Text>,
        unique_key -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    job_probes (id) {
        id -> BigInt,
        job_id -> BigInt,
        label -> Text,
        runner -> Text,
        attempt -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mails (id) {
        id -> BigInt,
        recipient -> Text,
        template -> Text,
        params -> Text,
        message_id -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(account_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(account_tokens, users);

diesel::table! {
    subscribers (id) {
        id -> BigInt,
        email -> Text,
        email_key -> Text,
        name -> Nullable<Text>,
        status -> Text,
        source -> Nullable<Text>,
        secret -> Text,
        confirmation_sent_at -> Nullable<Timestamp>,
        confirmed_at -> Nullable<Timestamp>,
        unsubscribed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    subscriber_topics (subscriber_id, topic) {
        subscriber_id -> BigInt,
        topic -> Text,
    }
}

diesel::table! {
    subscription_tokens (id) {
        id -> BigInt,
        subscriber_id -> BigInt,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    subscription_consents (id) {
        id -> BigInt,
        subscriber_id -> BigInt,
        email -> Text,
        topics -> Text,
        source -> Nullable<Text>,
        privacy_notice_version -> Text,
        ip -> Nullable<Text>,
        created_at -> Timestamp,
        basis -> Text,
    }
}

diesel::table! {
    subscription_erasures (id) {
        id -> BigInt,
        email_hash -> Text,
        erased_at -> Timestamp,
    }
}

diesel::joinable!(subscriber_topics -> subscribers (subscriber_id));

diesel::joinable!(subscription_tokens -> subscribers (subscriber_id));

diesel::joinable!(subscription_consents -> subscribers (subscriber_id));

diesel::allow_tables_to_appear_in_same_query!(
    subscribers,
    subscriber_topics,
    subscription_tokens,
    subscription_consents
);

diesel::table! {
    /// What the last WordPress import wrote to an article (issue 15 §2).
    article_imports (article_id) {
        article_id -> BigInt,
        version -> Integer,
        hash -> Text,
    }
}

diesel::joinable!(article_imports -> articles (article_id));

diesel::allow_tables_to_appear_in_same_query!(article_imports, articles);

diesel::table! {
    /// Pages (issue 15 §2), apart from articles.
    pages (id) {
        id -> BigInt,
        slug -> Text,
        title -> Text,
        body_source -> Text,
        body_html -> Text,
        status -> Text,
        parent_id -> Nullable<BigInt>,
        menu_order -> Integer,
        published_at -> Nullable<Timestamp>,
        version -> Integer,
        import_source -> Nullable<Text>,
        import_key -> Nullable<Text>,
        import_version -> Nullable<Integer>,
        import_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    page_revisions (id) {
        id -> BigInt,
        page_id -> BigInt,
        user_id -> Nullable<BigInt>,
        changed_fields -> Text,
        snapshot -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(page_revisions -> pages (page_id));
diesel::allow_tables_to_appear_in_same_query!(page_revisions, pages);

diesel::table! {
    article_newsletters (article_id) {
        article_id -> BigInt,
        mode -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mailings (id) {
        id -> BigInt,
        article_id -> Nullable<BigInt>,
        state -> Text,
        held_reason -> Nullable<Text>,
        scheduled_at -> Timestamp,
        subject -> Nullable<Text>,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        article_title -> Nullable<Text>,
    }
}

diesel::table! {
    mailing_deliveries (id) {
        id -> BigInt,
        mailing_id -> BigInt,
        subscriber_id -> Nullable<BigInt>,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        message_id -> Text,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(article_newsletters -> articles (article_id));

diesel::joinable!(mailings -> articles (article_id));

diesel::joinable!(mailing_deliveries -> mailings (mailing_id));

diesel::joinable!(mailing_deliveries -> subscribers (subscriber_id));

diesel::allow_tables_to_appear_in_same_query!(mailings, mailing_deliveries, subscribers, articles, article_newsletters);

diesel::table! {
    readers (id) {
        id -> BigInt,
        email -> Text,
        email_key -> Text,
        name -> Nullable<Text>,
        secret -> Text,
        verified_at -> Nullable<Timestamp>,
        verification_sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        replies_unsubscribed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    comment_notifications (id) {
        id -> BigInt,
        reader_id -> BigInt,
        thread_id -> BigInt,
        reply_id -> BigInt,
        created_at -> Timestamp,
        handled_at -> Nullable<Timestamp>,
        mail_id -> Nullable<BigInt>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    reader_tokens (id) {
        id -> BigInt,
        reader_id -> BigInt,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comment_decisions (id) {
        id -> BigInt,
        comment_id -> BigInt,
        status -> Text,
        actor -> Text,
        reasons -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comment_votes (comment_id, voter) {
        comment_id -> BigInt,
        voter -> Text,
        value -> Integer,
        created_at -> Timestamp,
    }
}

diesel::joinable!(reader_tokens -> readers (reader_id));

diesel::joinable!(comment_decisions -> comments (comment_id));

diesel::joinable!(comment_votes -> comments (comment_id));

diesel::allow_tables_to_appear_in_same_query!(reader_tokens, readers);

diesel::allow_tables_to_appear_in_same_query!(
    comments,
    readers,
    comment_decisions,
    comment_votes,
    comment_notifications
);

diesel::joinable!(comment_notifications -> readers (reader_id));

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        url -> Text,
        description -> Nullable<Text>,
        events -> Text,
        secret -> Text,
        active -> Bool,
        failure_streak -> Integer,
        disabled_at -> Nullable<Timestamp>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        message_id -> Text,
        event -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        duration_ms -> Nullable<Integer>,
        error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));

diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries);

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        attempt -> Integer,
        request_headers -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        duration_ms -> Integer,
        error -> Nullable<Text>,
        started_at -> Timestamp,
    }
}

diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(webhook_attempts, webhook_deliveries);

diesel::table! {
    article_announcements (article_id) {
        article_id -> BigInt,
        announced_at -> Timestamp,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comment_form_nonces (nonce) {
        nonce -> Text,
        expires_at -> Timestamp,
    }
}
