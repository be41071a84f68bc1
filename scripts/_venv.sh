# Sourced by run.sh and test.sh: make .venv and install the project's dependencies into it.
# Reinstalls only when pyproject.toml changed since the last install.
ensure_venv() {
    local extras="$1" py="${PYTHON:-python3}"
    if ! command -v "$py" >/dev/null 2>&1; then
        echo "Python 3.11+ is needed: install it (Debian: apt-get install python3 python3-venv)" >&2
        exit 1
    fi
    if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "Python 3.11+ is needed; $("$py" --version) found" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        if ! "$py" -m venv .venv 2>/dev/null; then
            rm -rf .venv
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
                echo "Installing python3-venv (Debian's Python ships venv separately)..." >&2
                apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
                "$py" -m venv .venv
            else
                echo "Cannot create a virtual environment: run 'sudo apt-get install python3-venv'" >&2
                exit 1
            fi
        fi
    fi
    local stamp=".venv/.installed${extras:+-$extras}"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
        touch "$stamp"
    fi
}
