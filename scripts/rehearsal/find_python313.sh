#!/usr/bin/env bash
# Prints the path of a Python 3.13 interpreter (the Lambda runtime's version, and what LocalStack needs),
# or explains what to install and exits 1. Looks at $PYTHON313, python3.13 on the PATH, then pyenv's versions.
set -u
for candidate in "${PYTHON313:-}" "$(command -v python3.13 2>/dev/null)" \
                 $(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.13*/bin/python 2>/dev/null | sort -V -r); do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
    echo "$candidate"
    exit 0
  fi
done
echo "The deploy rehearsal needs Python 3.13 (the Lambda runtime's version; LocalStack cannot run on 3.11)." >&2
echo "Install it with 'pyenv install 3.13' or 'apt-get install python3.13 python3.13-venv'," >&2
echo "or point PYTHON313 at an interpreter: make test PYTHON313=/path/to/python3.13" >&2
exit 1
