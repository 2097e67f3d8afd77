#!/usr/bin/env bash
# Files up and down through Lushan (issue 21) against `cp` of the same file
# on the same machine in the same run, with the server's memory sampled
# while they run. Needs root (the server makes the user's Unix account and
# serves files as it) and a release build. Results go to bench/results/.
#
#   bash bench/files.sh [SIZE_MB]      (default 2048)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb="${1:-2048}"
[ "$(id -u)" = 0 ] || { echo "bench/files.sh: run as root (the server serves files as their users)"; exit 1; }
cargo build --release --quiet -p lushan
bin="$PWD/target/release/lushan"
work=$(mktemp -d /tmp/lushan-files-bench.XXXXXX)
chmod 755 "$work"
user="bench$(date +%s | tail -c 5)"
project="p$user"
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    userdel "$user" 2>/dev/null || true
    groupdel "$project" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/lushan.toml" <<TOML
[accounts]
provider = "local"
home_root = "$work/home"
project_root = "$work/projects"
TOML
HOME="$work/op" LUSHAN_INSECURE_FAST_PASSWORD_HASH=1 "$bin" up --listen 127.0.0.1:0 --data "$work/data" \
    --config "$work/lushan.toml" >"$work/up.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q "http://" "$work/up.log" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/up.log" | head -n 1)
op() { HOME="$work/op" "$bin" --url "$url" "$@"; }
op admin tenant create bench --sector enterprise >/dev/null
echo "bench-password-1" | op admin user create "$user" --tenant bench --password-stdin >/dev/null
op admin project create "$project" --tenant bench --pi "$user" >/dev/null
laptop="$work/laptop"
mkdir -p "$laptop"
echo "bench-password-1" | HOME="$laptop" "$bin" login --url "$url" "$user" --password-stdin >/dev/null
me() { HOME="$laptop" "$bin" --url "$url" "$@"; }
dir="$work/projects/$project"

head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$laptop/data.bin"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }
# Runs "$@" while sampling the server's resident memory; prints seconds and peak KiB.
measure() {
    local peak=0 started ended now
    started=$(date +%s.%N)
    "$@" >/dev/null &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        now=$(rss)
        [ "$now" -gt "$peak" ] && peak=$now
        sleep 0.05
    done
    wait "$pid"
    ended=$(date +%s.%N)
    echo "$(echo "$ended - $started" | bc -l) $peak"
}
sync
idle=$(rss)
# The peer for the upload is a durable copy (the upload syncs its file
# before it renames it into place); for the download, a plain one.
read -r cp_s _ < <(measure cp "$laptop/data.bin" "$dir/cp.bin")
sync
rm "$dir/cp.bin"
sync
read -r cps_s _ < <(measure sh -c "cp '$laptop/data.bin' '$dir/cp.bin' && sync")
sync
read -r up_s up_peak < <(measure me files put "$laptop/data.bin" "$dir/up.bin")
sync
read -r down_s down_peak < <(measure me files get "$dir/up.bin" "$laptop/down.bin")
cmp "$laptop/data.bin" "$laptop/down.bin"
rate() { echo "scale=1; $size_mb / $1" | bc -l; }
ratio() { echo "scale=2; $2 / $1" | bc -l; }
cat <<REPORT
files bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, ${size_mb} MiB of random bytes, one run each, same file system
operation            seconds   MiB/s   vs its peer (peer time / its time)   server RSS peak above idle
cp                   $(printf %7.2f "$cp_s")   $(printf %6s "$(rate "$cp_s")")   (the download's peer)                -
cp && sync           $(printf %7.2f "$cps_s")   $(printf %6s "$(rate "$cps_s")")   (the upload's peer)                  -
lushan files put     $(printf %7.2f "$up_s")   $(printf %6s "$(rate "$up_s")")   $(printf %-36s "$(ratio "$up_s" "$cps_s")") $(( (up_peak - idle) / 1024 )) MiB
lushan files get     $(printf %7.2f "$down_s")   $(printf %6s "$(rate "$down_s")")   $(printf %-36s "$(ratio "$down_s" "$cp_s")") $(( (down_peak - idle) / 1024 )) MiB
server RSS idle: $((idle / 1024)) MiB; the download matched byte for byte
REPORT
