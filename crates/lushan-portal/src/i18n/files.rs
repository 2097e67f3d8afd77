//! A user's files: their home and their projects' directories.

super::catalogue! {
    sections {}
    title: "文件", "Files";
    intro: "您的主目录和所在项目的目录，以您在服务器上的 Unix 账号读写。",
        "Your home and your projects' directories, read and written as your Unix account on the server.";
    your_directories: "您的目录", "Your directories";
    up: "上一级", "Up";
    name: "名称", "Name";
    kind: "类型", "Kind";
    size: "大小（字节）", "Size (bytes)";
    modified: "修改时间", "Modified";
    mode: "权限", "Mode";
    kind_file: "文件", "file";
    kind_directory: "目录", "directory";
    kind_link: "链接", "link";
    kind_other: "特殊文件", "special";
    empty: "此目录为空。可以在下面上传文件或新建目录。", "This directory is empty. Upload a file or make a directory below.";
    truncated: "只列出了前 20,000 项。", "Only the first 20,000 entries are listed.";
    download: "下载", "Download";
    remove: "删除", "Remove";
    upload_title: "上传文件", "Upload a file";
    upload_label: "选择文件", "Choose a file";
    overwrite: "替换同名文件", "Replace a file of the same name";
    upload: "上传", "Upload";
    mkdir_title: "新建目录", "Make a directory";
    mkdir_label: "目录名", "Directory name";
    mkdir: "新建", "Make";
    uploaded: "已上传：", "Uploaded: ";
    made: "已新建目录：", "Made directory: ";
    removed: "已删除：", "Removed: ";
    name_invalid: "名称不能为空，也不能包含 /。", "A name cannot be empty or contain /.";
    no_file: "请选择要上传的文件。", "Choose a file to upload.";
    submit_here: "在此目录提交作业", "Submit a job here";
}
