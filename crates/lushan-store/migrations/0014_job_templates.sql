-- Job templates: the centre's (owner_user_id 0, managed by operators) and
-- each user's own saved ones. A template is a batch script whose #SBATCH
-- lines fill the portal's job form. A name is unique per owner (0 is used
-- rather than NULL so the centre's names are unique too: NULLs are all
-- distinct to a UNIQUE constraint).
CREATE TABLE job_templates (
    id BIGINT PRIMARY KEY,
    owner_user_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    title_en TEXT NOT NULL,
    description TEXT NOT NULL,
    description_en TEXT NOT NULL,
    script TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner_user_id, name)
);

-- The four every centre starts with; operators edit or remove them.
INSERT INTO job_templates (id, owner_user_id, name, title, title_en, description, description_en, script, created_at, updated_at) VALUES
(1, 0, 'plain', '普通作业', 'Plain script',
 '单个任务的批处理脚本：写下要运行的命令。', 'A batch script with one task: write the commands to run.',
 '#!/bin/bash
#SBATCH --job-name=my-job
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --time=01:00:00

echo "Running on $(hostname)"
', 1796601600000, 1796601600000),
(2, 0, 'mpi', 'MPI 并行作业', 'MPI job',
 '跨多个节点的 MPI 程序，由 srun 启动每个进程。', 'An MPI program across nodes; srun starts each rank.',
 '#!/bin/bash
#SBATCH --job-name=mpi-job
#SBATCH --nodes=2
#SBATCH --ntasks=8
#SBATCH --time=02:00:00

srun ./my_mpi_program
', 1796601600000, 1796601600000),
(3, 0, 'array-sweep', '作业数组（参数扫描）', 'Array sweep',
 '同一脚本按不同参数运行多次，每个任务读取 $SLURM_ARRAY_TASK_ID。', 'The same script run once per parameter; each task reads $SLURM_ARRAY_TASK_ID.',
 '#!/bin/bash
#SBATCH --job-name=sweep
#SBATCH --array=0-9
#SBATCH --ntasks=1
#SBATCH --time=00:30:00
#SBATCH --output=sweep-%A_%a.out

echo "task $SLURM_ARRAY_TASK_ID of array $SLURM_ARRAY_JOB_ID"
python3 run.py --case "$SLURM_ARRAY_TASK_ID"
', 1796601600000, 1796601600000),
(4, 0, 'gpu-pytorch', 'GPU 训练（PyTorch）', 'GPU training (PyTorch)',
 '使用一块 GPU 训练 PyTorch 模型；CUDA_VISIBLE_DEVICES 由平台设置。', 'Train a PyTorch model on one GPU; the platform sets CUDA_VISIBLE_DEVICES.',
 '#!/bin/bash
#SBATCH --job-name=train
#SBATCH --gpus=1
#SBATCH --cpus-per-task=8
#SBATCH --mem=32G
#SBATCH --time=04:00:00

nvidia-smi
python3 train.py
', 1796601600000, 1796601600000);
INSERT INTO counters (name, next_value) VALUES ('template', 5);
