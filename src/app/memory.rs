//! Handing freed memory back to the system.

/// Returns freed memory to the operating system now. mimalloc (the binary's allocator)
/// keeps freed segments for reuse and purges them only as threads allocate again, so
/// the start-up's one-off Argon2 probe (19 MiB, for the dummy hash that unknown
/// usernames are checked against) would otherwise stay resident in an idle service.
pub fn release_freed() {
    // SAFETY: mi_collect only walks mimalloc's own structures and may be called from
    // any thread at any time; without mimalloc as the allocator it has nothing to do.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
