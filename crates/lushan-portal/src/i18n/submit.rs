//! Composing and submitting a job: templates, the generated script, the quote.

super::catalogue! {
    sections {}
    title: "提交作业", "Submit a job";
    intro: "选择一个模板，填写资源需求，先查看报价，再提交。",
        "Pick a template, fill in what the job needs, see the quote, then submit.";
    templates: "作业模板", "Job templates";
    centre_template: "中心模板", "Centre's";
    my_template: "我的模板", "Mine";
    use_template: "使用此模板", "Use this template";
    in_use: "当前模板", "In use";
    form_mode: "填写表单", "Fill in a form";
    script_mode: "直接编写脚本", "Write the whole script";
    resources: "资源需求", "What the job needs";
    job_name: "作业名", "Job name";
    account: "项目", "Project";
    account_hint: "费用记入此项目（Slurm 的账户）。", "The project that pays (Slurm's account).";
    partition: "分区", "Partition";
    any_partition: "由平台选择", "Let the platform choose";
    nodes: "节点数", "Nodes";
    ntasks: "任务数", "Tasks";
    ntasks_hint: "总进程数，例如 MPI 进程数。", "Processes in all, such as MPI ranks.";
    cpus_per_task: "每任务核数", "CPUs per task";
    mem: "每节点内存", "Memory per node";
    mem_hint: "例如 4G、500M；留空使用默认值。", "Such as 4G or 500M; empty for the default.";
    gpus: "GPU 数", "GPUs";
    gpus_hint: "总 GPU 数，例如 1 或 a100:2。", "GPUs in all, such as 1 or a100:2.";
    time: "时间限制", "Time limit";
    time_hint: "例如 30（分钟）、2:00:00、1-12:00:00。", "Such as 30 (minutes), 2:00:00 or 1-12:00:00.";
    array: "作业数组", "Array";
    array_hint: "例如 0-9 或 1,3,5；留空则不是数组。", "Such as 0-9 or 1,3,5; empty for a single job.";
    extra: "其他 #SBATCH 选项", "More #SBATCH options";
    extra_hint: "每行一个，例如 --output=run-%j.out。", "One per line, such as --output=run-%j.out.";
    body: "运行的命令", "Commands to run";
    script: "作业脚本", "Job script";
    script_hint: "完整的批处理脚本，以 #!/bin/bash 开头，#SBATCH 行写在命令之前。",
        "The whole batch script: #!/bin/bash first, #SBATCH lines before the commands.";
    workdir: "工作目录", "Working directory";
    workdir_hint: "作业在服务器上的起始目录，默认是您的主目录。",
        "Where the job starts on the server; your home directory by default.";
    workdir_required: "请填写工作目录（服务器上的绝对路径）。", "Give a working directory (an absolute path on the server).";
    quote: "查看报价", "See the quote";
    submit: "提交作业", "Submit the job";
    quote_title: "报价", "Quote";
    quote_intro: "提交前冻结最坏情况的费用，作业结束后按实际用量结算，多余部分退回。",
        "The worst case is held at submission; the job is charged for what it uses when it ends and the rest is released.";
    generated: "生成的脚本", "The script";
    site: "集群", "Site";
    chosen: "将提交到", "Goes to";
    estimated_start: "预计开始", "Estimated start";
    worst_case: "最坏情况费用", "Worst case";
    payer: "付费方", "Who pays";
    payer_wallet: "租户余额", "The tenant's wallet";
    payer_grant: "公益机时", "Public-welfare grant";
    available: "可用", "Available";
    not_covered: "余额不足", "Not covered";
    cannot_run: "无法运行", "Cannot run here";
    no_estimate: "无法估计", "No estimate";
    su: "机时", "SU";
    save_title: "保存为我的模板", "Save as my template";
    save_name: "模板名", "Template name";
    save_name_hint: "小写字母、数字、- 和 _，例如 my-cfd。", "Lower-case letters, digits, - and _, such as my-cfd.";
    save_label: "标题", "Title";
    save: "保存模板", "Save template";
    save_centre: "作为中心模板（所有用户可用）", "As the centre's template (offered to everyone)";
    delete_template: "删除", "Delete";
    saved: "模板已保存。", "Template saved.";
    no_projects: "您还不是任何项目的成员，无法提交作业。请联系项目负责人把您加入项目。",
        "You are not a member of any project yet, so you cannot submit. Ask a project's PI to add you.";
    fix_fields: "请修改标出的字段。", "Please correct the fields marked below.";
    fix_fields_live: "请先修改以下字段：", "Correct these fields first:";
}
