//! The signed-in user's profile: password, language, API tokens.

super::catalogue! {
    sections {}
    title: "个人设置", "Profile";
}
