//! The local backend's unit tests: specs on disk, the job folder's
//! modes, opening job files without waiting, reading output safely.

use super::*;

#[test]
fn specs_round_trip_through_json() {
    let spec = LaunchSpec {
        job_id: 7,
        script: String::new(),
        args: vec!["a b".into()],
        env: vec![("SLURM_JOB_ID".into(), "7".into())],
        workdir: "/tmp".into(),
        stdout: "/tmp/o".into(),
        stderr: "/tmp/e".into(),
        stdin: "/dev/null".into(),
        append: false,
        time_limit_secs: 60,
        kill_wait_secs: 5,
        cpus: vec![0, 1],
        memory_limit_mb: 100,
        run_as: Some(RunAs { uid: 1000, gid: 1000 }),
        cgroup_root: Some("/sys/fs/cgroup/lushan".into()),
    };
    assert_eq!(spec_from_json(&spec_to_json(&spec), String::new()), Some(spec));
}

/// Runs `f` on a thread and gives its answer, or `None` if it has not
/// answered within 5 s: what a blocking open would do.
fn within_5s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(5)).ok()
}

fn me() -> RunAs {
    RunAs { uid: nix::unistd::geteuid().as_raw(), gid: nix::unistd::getegid().as_raw() }
}

fn fifo_in(dir: &tempfile::TempDir) -> PathBuf {
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    fifo
}

#[test]
fn output_that_is_a_fifo_is_refused_at_once_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo_in(&dir);
    let read = within_5s(move || read_output(&fifo, 0, 100, me())).expect("reading a FIFO blocked");
    assert!(matches!(read, Err(OutputError::NotRegular(_))), "{read:?}");
}

#[test]
fn output_behind_a_symlink_to_a_device_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("slurm-1.out");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let read = within_5s(move || read_output(&link, 0, 100, me())).expect("reading through the link blocked");
    assert!(matches!(read, Err(OutputError::Symlink(_))), "{read:?}");
    let device = within_5s(|| read_output(Path::new("/dev/zero"), 0, 100, me())).unwrap();
    assert!(matches!(device, Err(OutputError::NotRegular(_))), "{device:?}");
}

#[test]
fn output_of_a_regular_file_of_the_reader_is_read_from_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("slurm-1.out");
    std::fs::write(&out, "hello world\n").unwrap();
    let chunk = read_output(&out, 6, 3, me()).unwrap();
    assert_eq!(chunk, OutputChunk { data: b"wor".to_vec(), offset: 6, size: 12 });
}

#[test]
fn a_root_reader_opens_output_with_the_job_user_s_rights_and_needs_their_file() {
    use std::os::unix::fs::PermissionsExt;
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: there is no other user to read as");
        return;
    }
    let nobody = RunAs { uid: 65534, gid: 65534 };
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Root's file: refused, even though root could read it.
    let roots = dir.path().join("roots.out");
    std::fs::write(&roots, "root's\n").unwrap();
    assert!(matches!(read_output(&roots, 0, 100, nobody), Err(OutputError::NotOwned(_))));
    // Behind a folder only root may enter: the open itself is refused.
    let closed = dir.path().join("closed");
    std::fs::create_dir(&closed).unwrap();
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).unwrap();
    let inside = closed.join("slurm-1.out");
    std::fs::write(&inside, "x\n").unwrap();
    std::os::unix::fs::chown(&inside, Some(nobody.uid), Some(nobody.gid)).unwrap();
    let refused = read_output(&inside, 0, 100, nobody);
    assert!(
        matches!(&refused, Err(OutputError::Io { source, .. }) if source.kind() == std::io::ErrorKind::PermissionDenied),
        "{refused:?}"
    );
    // This thread is root again afterwards.
    assert_eq!(read_output(&roots, 0, 100, me()).unwrap().data, b"root's\n");
    // The user's own file is read.
    let own = dir.path().join("own.out");
    std::fs::write(&own, "theirs\n").unwrap();
    std::os::unix::fs::chown(&own, Some(nobody.uid), Some(nobody.gid)).unwrap();
    assert_eq!(read_output(&own, 0, 100, nobody).unwrap().data, b"theirs\n");
}

#[test]
fn a_job_output_fifo_without_a_reader_fails_at_once_and_with_one_is_used_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo_in(&dir);
    let path = fifo.clone();
    let alone = within_5s(move || open_output(&path, false).map(drop)).expect("opening the FIFO blocked");
    let err = alone.unwrap_err();
    assert!(err.contains("FIFO that no process reads"), "{err}");

    let reader = open_input(&fifo).unwrap();
    let path = fifo.clone();
    let writer = within_5s(move || open_output(&path, false)).expect("opening the read FIFO blocked").unwrap();
    for file in [&reader, &writer] {
        let flags = nix::fcntl::fcntl(file, nix::fcntl::FcntlArg::F_GETFL).unwrap();
        assert!(!nix::fcntl::OFlag::from_bits_truncate(flags).contains(nix::fcntl::OFlag::O_NONBLOCK));
    }
}

#[test]
fn a_job_folder_and_its_files_are_closed_to_other_users() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let jobs = dir.path().join("jobs");
    // As an earlier version left them.
    let old = jobs.join("3");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(old.join("spec.json"), "{}").unwrap();
    std::fs::set_permissions(old.join("spec.json"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let backend = LocalBackend::new(jobs.clone(), PathBuf::from("/bin/false"), Arc::new(|| {}));
    backend.secure_job_dirs().unwrap();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&jobs), 0o711);
    assert_eq!((mode(&old), mode(&old.join("spec.json"))), (0o711, 0o600));

    // A job run as a user: it may run its script and nothing else.
    let user = if nix::unistd::geteuid().is_root() { RunAs { uid: 65534, gid: 65534 } } else { me() };
    let job = jobs.join("4");
    std::fs::create_dir(&job).unwrap();
    write_script(&job.join("script"), "#!/bin/sh\ntrue\n", Some(user)).unwrap();
    write_replacing(&job.join("spec.json"), "{}").unwrap();
    write_atomically(&job.join("status.json"), "{}").unwrap();
    let script = std::fs::metadata(job.join("script")).unwrap();
    assert_eq!((script.mode() & 0o7777, script.uid()), (0o700, user.uid));
    assert_eq!((mode(&job.join("spec.json")), mode(&job.join("status.json"))), (0o600, 0o600));
}

#[test]
fn a_job_whose_supervisor_vanished_is_dated_by_its_last_heartbeat() {
    let jobs = tempfile::tempdir().unwrap();
    let backend = LocalBackend::new(jobs.path().to_owned(), "/nonexistent".into(), Arc::new(|| {}));
    let dir = jobs.path().join("7");
    std::fs::create_dir(&dir).unwrap();
    // No process has this pid: the supervisor is gone, with no status.
    std::fs::write(dir.join("supervisor.pid"), "999999999\n").unwrap();
    let heartbeat = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    std::fs::File::open(dir.join("supervisor.pid")).unwrap().set_modified(heartbeat).unwrap();
    match backend.poll(7) {
        JobProgress::Lost { last_alive_ms, .. } => assert_eq!(last_alive_ms, Some(1_700_000_000_000)),
        other => panic!("expected a lost job, got {other:?}"),
    }
}

#[test]
fn a_status_that_cannot_be_written_yet_is_retried_until_it_is() {
    let scratch = tempfile::tempdir().unwrap();
    // Unwritable until its directory appears, as on a disk that is full
    // until space returns.
    let dir = scratch.path().join("later");
    let path = dir.join("status.json");
    let maker = {
        let dir = dir.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            std::fs::create_dir(&dir).unwrap();
        })
    };
    assert_eq!(write_status(&path, "{}", Duration::from_millis(20), Duration::from_secs(30)), 0);
    maker.join().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
    // And a supervisor does give up in the end.
    let never = scratch.path().join("never").join("status.json");
    assert_eq!(write_status(&never, "{}", Duration::from_millis(10), Duration::from_millis(50)), 1);
}
