//! How much memory the programs a test binary ran used at most.

/// The largest resident set of any child this test binary waited for, in MiB.
pub fn max_child_rss_mib() -> i64 {
    // SAFETY: an all-zero rusage is a valid value, and getrusage only fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is to a live rusage of the right type.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss / 1024
}
