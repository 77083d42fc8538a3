# Sourced by microbench-compare.sh and server-compare.sh: a base build beside this tree, and the median they report.

# Checks out BASE_REF into "$base/tree" (a temporary worktree, removed on exit); sets base.
two_builds_checkout() {
  base=$(mktemp -d)
  trap 'git worktree remove --force "$base/tree" >/dev/null 2>&1 || true; rm -rf "$base"' EXIT
  git worktree add -q --detach "$base/tree" "$1"
}

# The median of the numbers on standard input, printed with FORMAT (awk's printf; default: as awk prints a number).
median() {
  sort -n | awk -v format="${1:-%s}" '{ v[NR] = $1 } END { printf format "\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
