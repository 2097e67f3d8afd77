//! Composing and submitting a job.
