//! The signed-in user's profile: password, language, API tokens.

super::catalogue! {
    sections {}
    title: "个人设置", "Profile";
    account: "账号", "Account";
    display_name: "用户姓名", "Display name";
    tenant: "租户", "Tenant";
    password_title: "修改密码", "Change password";
    current_password: "当前密码", "Current password";
    new_password: "新密码", "New password";
    repeat_password: "再次输入新密码", "New password again";
    password_hint: "至少 8 个字符。", "At least 8 characters.";
    change_password: "修改密码", "Change password";
    password_changed: "密码已修改。", "Your password has been changed.";
    error_current_wrong: "当前密码不正确。", "The current password is wrong.";
    error_current_missing: "请输入当前密码。", "Enter your current password.";
    error_new_invalid: "新密码不符合要求：", "The new password is not acceptable: ";
    error_repeat_differs: "两次输入的新密码不一致。", "The two new passwords differ.";
    language_title: "界面语言", "Language";
    language_label: "网页门户使用的语言", "The portal's language";
    language_browser: "跟随浏览器", "As my browser";
    language_zh: "简体中文", "简体中文 (Simplified Chinese)";
    language_en: "English（英语）", "English";
    language_hint: "保存在服务器上，换一台电脑登录也有效。页面右上角的切换链接只对本浏览器有效。",
        "Kept on the server, so it follows you to another computer. The switch at the top right applies to this browser only.";
    save: "保存", "Save";
    language_saved: "语言设置已保存。", "Your language setting has been saved.";
    tokens_title: "访问令牌", "API tokens";
    tokens_intro: "访问令牌供命令行工具 lushan 和 REST API 使用。令牌与密码同等重要：不要分享，不用时请撤销。",
        "API tokens are for the lushan command-line tool and the REST API. A token is as good as your password: do not share it, revoke it when no longer needed.";
    token_id: "编号", "ID";
    token_name: "名称", "Name";
    token_state: "状态", "State";
    token_created: "创建时间", "Created";
    token_last_used: "最近使用", "Last used";
    token_expires: "到期时间", "Expires";
    token_never: "永不", "Never";
    token_not_used: "未使用", "Not used";
    token_active: "有效", "Active";
    token_expired: "已过期", "Expired";
    token_revoked: "已撤销", "Revoked";
    this_session: "本次登录", "This session";
    this_session_note: "这是您当前在网页门户中登录所用的令牌。撤销它会立即退出登录。",
        "The token this portal session signed in with. Revoking it signs you out at once.";
    revoke: "撤销", "Revoke";
    revoke_and_sign_out: "撤销并退出登录", "Revoke and sign out";
    no_tokens: "暂无访问令牌。", "No API token yet.";
    create_token_title: "创建访问令牌", "Create an API token";
    token_name_hint: "小写字母开头，可含小写字母、数字、- 和 _，例如 laptop。",
        "Starts with a lower-case letter; lower-case letters, digits, - and _, e.g. laptop.";
    token_expires_in: "有效期", "Valid for";
    expires_never: "长期有效", "No expiry";
    expires_30d: "30 天", "30 days";
    expires_90d: "90 天", "90 days";
    expires_365d: "365 天", "365 days";
    create_token: "创建令牌", "Create token";
    error_token_name: "令牌名称无效：", "The name is not valid: ";
    created_title: "访问令牌已创建", "API token created";
    created_once: "请立即复制下面的令牌：它只显示这一次，离开本页后无法再次查看。",
        "Copy the token below now: it is shown only this once and cannot be seen again after you leave this page.";
    created_cli: "在命令行中使用（lushan 从环境变量读取服务器地址和令牌）：",
        "Use it with the command line (lushan reads the server's address and the token from these variables):";
    created_api: "或在 REST API 请求中使用请求头：", "Or, with the REST API, send the header:";
    back_to_profile: "返回个人设置", "Back to the profile";
}
