#!/usr/bin/env bash
# Markdown for a pull-request comment: `llama-infra diff` of every deployment spec the PR adds, changes or deletes,
# computed offline (no cloud credentials), for pull requests from forks.
# Usage: offline-diff.sh BASE_REV   (from the repository root, the PR checked out, llama-infra on PATH)
set -uo pipefail

base="${1:?usage: offline-diff.sh BASE_REV}"
spec_paths=(':(glob)stacks/specs/**/*.yaml' ':(glob)stacks/specs/**/*.yml' ':(glob)examples/**/spec*.yaml')

echo "## llama-infra offline diff"
echo
echo "This pull request comes from a fork, so CI has no cloud credentials for \`pulumi preview\`. Below is the"
echo "resource-level diff \`llama-infra diff\` computes from the specs alone (base \`${base:0:12}\`)."
echo

changes="$(git diff --name-status --no-renames "$base...HEAD" -- "${spec_paths[@]}")"
if [ -z "$changes" ]; then
  echo "No deployment spec changed in this pull request."
  exit 0
fi

while IFS=$'\t' read -r status path; do
  echo "### \`$path\`"
  echo
  case "$status" in
    A) echo "New spec: every resource of this deployment would be created."; echo; continue ;;
    D) echo "Spec deleted: every resource of this deployment would be deleted."; echo; continue ;;
    *) from="$base:$path" ;;
  esac
  if ! output="$(llama-infra diff "$from" "$path" --format markdown 2>&1)"; then
    echo "\`llama-infra diff\` failed:"
    echo
    echo '```'
    echo "$output"
    echo '```'
  else
    echo "$output"
  fi
  echo
done <<< "$changes"
