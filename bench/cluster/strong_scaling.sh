#!/usr/bin/env bash
# Strong scaling of `isac cluster slurm` on this machine (issue 18, docs/cluster.md "Strong scaling"):
# one fixed job, run as a 1-task and as a 2-task array + dependent merge, wall time from submission to the end
# of the merge job, CPU time (user + sys) of every isac process (tasks and merge), and the ratio.
#
#   bench/cluster/strong_scaling.sh [ISAC_BINARY]            # real single-node Slurm (scripts/slurm/start.sh; root)
#   ISAC_SCALING_MODE=local bench/cluster/strong_scaling.sh  # no Slurm: the generated array scripts run as
#                                                            # processes (a stand-in sbatch), tasks concurrently
# Settings (environment):
#   ISAC_SCALING_REPS     repetitions, 1-task and 2-task runs alternating (default 2)
#   ISAC_SCALING_SAMPLES  test = calibration samples of the fixed job (default 2500)
#   ISAC_SCALING_MODE     slurm (default) | local
#
# Two layouts per repetition, both on the 2 CPUs of the node:
#   shared : 1 task x --cpus-per-task 2      vs 2 tasks x --cpus-per-task 1, not pinned (the CI Slurm conf has
#            task/none: every isac process runs its samples on all cores it sees), i.e. the cost of sharding;
#   pinned : 1 task on core 0                vs 2 tasks on cores 0 and 1 (`taskset`, as Slurm's task/affinity or
#            a cgroup would confine a task to its CPUs), i.e. the speed-up a second core (task) gives.
# Fixed job: multitarget evaluate, paper system (K = 64, S = 256, 720 x 200 grid), --impairments unknown,known.
# The merged JSON of every 2-task run is checked against the 1-task run's (timing fields removed).
# Prints one result line per run and a summary; leaves nothing behind (trap: stops Slurm, removes the work folder).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
isac=$(realpath "${1:-.build/release/isac}")
[ -x "$isac" ] || { echo "strong-scaling: no isac binary at $isac (build it: swift build -c release --product isac)" >&2; exit 1; }
mode=${ISAC_SCALING_MODE:-slurm}
reps=${ISAC_SCALING_REPS:-2}
samples=${ISAC_SCALING_SAMPLES:-2500}
case "$mode" in slurm|local) ;; *) echo "strong-scaling: ISAC_SCALING_MODE must be slurm or local, not $mode" >&2; exit 2 ;; esac
[[ "$reps" =~ ^[1-9][0-9]?$ ]] || { echo "strong-scaling: ISAC_SCALING_REPS must be 1..99, not $reps" >&2; exit 2; }
[[ "$samples" =~ ^[1-9][0-9]{0,6}$ ]] || { echo "strong-scaling: ISAC_SCALING_SAMPLES must be 1..9999999, not $samples" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "strong-scaling: needs /usr/bin/time (GNU time) for the CPU times" >&2; exit 1; }
command -v taskset >/dev/null || { echo "strong-scaling: needs taskset (util-linux) for the pinned layout" >&2; exit 1; }
[ "$(nproc --all)" -ge 2 ] || { echo "strong-scaling: needs a machine with at least 2 CPUs" >&2; exit 1; }
if [ "$mode" = slurm ] && [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null && exec sudo -E "$0" "$@"
    echo "strong-scaling: the Slurm mode needs root (slurmd); ISAC_SCALING_MODE=local runs without Slurm" >&2; exit 1
fi

job=(multitarget evaluate --impairments unknown,known --samples "$samples" --calibration-samples "$samples" --seed 5 --quiet)

work=$(mktemp -d /tmp/isac-scaling.XXXXXX)
state=""
cleanup() {
    [ -n "$state" ] && "$repo/scripts/slurm/stop.sh" "$state"
    rm -rf "$work"
}
trap cleanup EXIT
if [ "$mode" = slurm ]; then
    state=$(mktemp -d /tmp/isac-slurm-state.XXXXXX)
    eval "$("$repo/scripts/slurm/start.sh" "$state")"
    echo "strong-scaling: single-node Slurm up ($(sinfo -h -o '%P %D nodes %c cpus %T'))"
fi

# A stand-in sbatch for the local mode: answers job ids as `sbatch --parsable` does.
cat >"$work/sbatch-local" <<'EOF'
#!/bin/sh
n=$(cat "$(dirname "$0")/sbatch-count" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$(dirname "$0")/sbatch-count"; echo "$n"
EOF
chmod +x "$work/sbatch-local"

# run LAYOUT TASKS CPUS_PER_TASK TAG: one array + merge; sets $w (wall seconds) and $u (CPU seconds).
run() {
    local layout=$1 tasks=$2 cpus=$3 tag=$4
    local d="$work/$tag" wrapper="$work/$tag-isac"
    mkdir -p "$d"
    # Every isac process of the run (tasks, merge) goes through this wrapper: GNU time appends its CPU times;
    # in the pinned layout task i runs on cores [i*c, i*c + c).
    {
        echo '#!/bin/sh'
        if [ "$layout" = pinned ]; then
            echo 'i=${SLURM_ARRAY_TASK_ID:-0}; first=$((i * '"$cpus"')); pin="taskset -c $first-$((first + '"$cpus"' - 1))"'
        else
            echo 'pin=""'
        fi
        echo "exec /usr/bin/time -a -o $d/cpu.txt -f '%U %S' \$pin $isac \"\$@\""
    } >"$wrapper"
    chmod +x "$wrapper"
    local sb=sbatch; [ "$mode" = local ] && sb="$work/sbatch-local"
    local t0 t1
    t0=$(date +%s.%N)
    "$isac" cluster slurm --tasks "$tasks" --cpus-per-task "$cpus" --dir "$d/job" --isac "$wrapper" --sbatch "$sb" --json \
        -- "${job[@]}" > "$d/submit.json"
    if [ "$mode" = slurm ]; then
        local ids
        ids=$(sed -nE 's/.*"array_job_id":"([0-9]+)".*"merge_job_id":"([0-9]+)".*/\1,\2/p' "$d/submit.json")
        while [ -n "$(squeue -h -j "$ids" 2>/dev/null)" ]; do sleep 0.5; done
        local st
        st=$(scontrol show job "${ids#*,}" -o | grep -o 'JobState=[A-Z_]*' | head -1)
        [ "$st" = "JobState=COMPLETED" ] || { echo "strong-scaling: merge job ${ids#*,} $st; logs:" >&2; tail -n 20 "$d"/job/logs/* >&2; exit 1; }
    else
        local pids=() i
        for ((i = 0; i < tasks; i++)); do SLURM_ARRAY_TASK_ID=$i bash "$d/job/array.sbatch" > "$d/task$i.log" 2>&1 & pids+=($!); done
        for p in "${pids[@]}"; do wait "$p" || { echo "strong-scaling: a task failed:" >&2; cat "$d"/task*.log >&2; exit 1; }; done
        bash "$d/job/merge.sbatch" > "$d/merge.log" 2>&1 || { echo "strong-scaling: the merge failed:" >&2; cat "$d/merge.log" >&2; exit 1; }
    fi
    t1=$(date +%s.%N)
    [ -s "$d/job/merged.json" ] || { echo "strong-scaling: no merged.json in $d/job" >&2; exit 1; }
    local cpu
    cpu=$(awk '$1 ~ /^[0-9.]+$/ { s += $1 + $2 } END { printf "%.2f", s }' "$d/cpu.txt")
    w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'); u=$cpu
}

strip() { sed -E 's/"(method_run_time_s|run_time_s|samples_per_s)":[^,}]*,?//g' "$1"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "strong-scaling: mode $mode, job: isac ${job[*]}; $reps repetitions; load average $(load)"
echo "layout  rep  tasks x cpus  wall_s   cpu_s   load(1 5 15)"
declare -A wall cpu
for ((r = 1; r <= reps; r++)); do
    for layout in shared pinned; do
        if [ "$layout" = shared ]; then one=2; else one=1; fi
        # Alternate the order between repetitions, so a load trend does not favour one side.
        if (( r % 2 )); then order="1 2"; else order="2 1"; fi
        for n in $order; do
            if [ "$n" = 1 ]; then c=$one; else c=1; fi
            run "$layout" "$n" "$c" "$layout-r$r-n$n"
            wall[$layout,$r,$n]=$w; cpu[$layout,$r,$n]=$u
            printf '%-7s %3d  %5d x %-4d %7.2f %7.2f   %s\n' "$layout" "$r" "$n" "$c" "$w" "$u" "$(load)"
        done
        cmp -s <(strip "$work/$layout-r$r-n1/job/merged.json") <(strip "$work/$layout-r$r-n2/job/merged.json") \
            || { echo "strong-scaling: the 2-task merged JSON differs from the 1-task one ($layout, rep $r)" >&2; exit 1; }
    done
done

echo "strong-scaling: summary (ratio = wall of 1 task / wall of 2 tasks; CPU ratio = CPU of 2 tasks / CPU of 1 task)"
for layout in shared pinned; do
    for ((r = 1; r <= reps; r++)); do
        w1=${wall[$layout,$r,1]} w2=${wall[$layout,$r,2]} u1=${cpu[$layout,$r,1]} u2=${cpu[$layout,$r,2]}
        printf 'strong-scaling: %-6s rep %d: 1 task %.1f s (%.1f CPU-s), 2 tasks %.1f s (%.1f CPU-s): ratio %.2f, CPU ratio %.2f\n' \
            "$layout" "$r" "$w1" "$u1" "$w2" "$u2" "$(awk -v a="$w1" -v b="$w2" 'BEGIN { print a / b }')" "$(awk -v a="$u2" -v b="$u1" 'BEGIN { print a / b }')"
    done
done
echo "strong-scaling: OK: every 2-task merged JSON equals the 1-task one (timings removed); load average now $(load)"
