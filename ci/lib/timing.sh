# Step timing shared by the ci/ scripts. Set LOG_TAG, then source this file:
#   LOG_TAG=cross_smoke_aarch64; . "$(dirname "${BASH_SOURCE[0]}")/lib/timing.sh"
#   step "fetch runtime"     # prints the time since the previous step
#   total                    # prints the time since the script started
now_us() { local t="${EPOCHREALTIME:-}"; [ -n "$t" ] && echo "${t//[.,]/}" || echo $(($(date +%s) * 1000000)); }
secs() { printf '%d.%d' $(($1 / 1000000)) $((($1 % 1000000) / 100000)); }
T0=$(now_us)
T_STEP=$T0
step() {
  local now
  now=$(now_us)
  printf '[%s] %-40s %7s s\n' "$LOG_TAG" "$1" "$(secs $((now - T_STEP)))"
  T_STEP=$now
}
total() { printf '[%s] %-40s %7s s\n' "$LOG_TAG" "total" "$(secs $(($(now_us) - T0)))"; }
