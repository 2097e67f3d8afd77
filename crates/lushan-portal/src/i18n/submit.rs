//! Composing and submitting a job: templates, the generated script, the quote.

super::catalogue! {
    sections {}
    title: "提交作业", "Submit a job";
}
