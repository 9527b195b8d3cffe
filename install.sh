#!/usr/bin/env bash
# Sets up mask-kiosk in this checkout: .venv with pinned dependencies, then the models.
# Idempotent: a re-run with nothing changed only checks the stamp and the model manifest.
#   ./install.sh              run-time install in this checkout (a user-level dev install)
#   ./install.sh --dev        plus test dependencies (and Debian's chromium for the browser tests, as root)
#   ./install.sh --system     as root: the appliance install under /opt/mask-kiosk with systemd units
#   ./install.sh --uninstall  as root: removes the units and /opt/mask-kiosk (keeps /etc/mask-kiosk and /var/lib data)
set -euo pipefail
cd "$(dirname "$0")"

PREFIX=/opt/mask-kiosk
SYSTEM_PACKAGES=(python3-venv chromium cage fonts-noto-cjk openssl espeak-ng)
# what a checkout needs from Debian besides Python: espeak-ng speaks the STOP prompts (made into WAV at install),
# a CJK font draws the Chinese screen; the tests add a broker to test MQTT against and the browser they drive
RUNTIME_PACKAGES=(espeak-ng fonts-noto-cjk)
DEV_PACKAGES=(mosquitto chromium)
mode=base
for arg in "$@"; do
    case "$arg" in
        --dev) mode=dev ;;
        --system) mode=system ;;
        --uninstall) mode=uninstall ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done

need_root() {
    if [ "$(id -u)" != 0 ]; then echo "install.sh $1: run as root" >&2; exit 2; fi
}

if [ "$mode" = uninstall ]; then
    need_root --uninstall
    systemctl disable --now mask-kiosk-screen.service mask-kiosk.service 2>/dev/null || true
    rm -f /etc/systemd/system/mask-kiosk.service /etc/systemd/system/mask-kiosk-screen.service
    systemctl daemon-reload
    rm -rf "$PREFIX"
    echo "removed the units and $PREFIX; kept /etc/mask-kiosk, /var/lib/mask-kiosk (events, settings) and the users"
    exit 0
fi

if [ "$mode" = system ]; then
    need_root --system
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${SYSTEM_PACKAGES[@]}" >/dev/null
    getent group mask-kiosk >/dev/null || groupadd --system mask-kiosk
    id mask-kiosk >/dev/null 2>&1 || useradd --system --gid mask-kiosk --groups video,render \
        --home-dir /var/lib/mask-kiosk --no-create-home --shell /usr/sbin/nologin mask-kiosk
    usermod -aG dialout mask-kiosk  # serial relay boards (also for a user made by an older install)
    if getent group gpio >/dev/null; then usermod -aG gpio mask-kiosk; fi
    id mask-kiosk-screen >/dev/null 2>&1 || useradd --system --user-group --groups video,render,input \
        --home-dir /var/lib/mask-kiosk-screen --no-create-home --shell /usr/sbin/nologin mask-kiosk-screen
    usermod -aG audio mask-kiosk-screen  # the PASS chime and the STOP prompt
    mkdir -p "$PREFIX"
    tar --exclude=.venv --exclude=.git --exclude=.cache --exclude=test-artifacts --exclude='models_ir/face_*' --exclude='models_ir/retinaface_*' --exclude=models_ir/manifest.json --exclude=models_ir/sounds \
        -cf - . | tar -xf - -C "$PREFIX"
    "$PREFIX/install.sh"
    install -d -m 0755 /etc/mask-kiosk
    if [ ! -f /etc/mask-kiosk/kiosk.toml ]; then
        sed -e 's|^state_dir = "".*|state_dir = "/var/lib/mask-kiosk"|' \
            -e 's|^cache_dir = "".*|cache_dir = "/var/cache/mask-kiosk"|' \
            -e "s|^models_dir = \"\".*|models_dir = \"$PREFIX/models_ir\"|" \
            config/kiosk.toml > /etc/mask-kiosk/kiosk.toml
    fi
    install -d -o mask-kiosk -g mask-kiosk -m 0750 /var/lib/mask-kiosk /var/cache/mask-kiosk
    # compile once now, so the first boot already finds the model cache; make the admin page's certificate
    runuser -u mask-kiosk -- env MASK_KIOSK_CONFIG=/etc/mask-kiosk/kiosk.toml HOME=/var/lib/mask-kiosk \
        "$PREFIX/.venv/bin/mask-kiosk" check >/dev/null
    runuser -u mask-kiosk -- env MASK_KIOSK_CONFIG=/etc/mask-kiosk/kiosk.toml HOME=/var/lib/mask-kiosk \
        "$PREFIX/.venv/bin/mask-kiosk" certificate
    for unit in mask-kiosk.service mask-kiosk-screen.service; do
        sed "s|@PREFIX@|$PREFIX|g" "systemd/$unit" > "/etc/systemd/system/$unit"
    done
    systemctl daemon-reload
    systemctl enable --now mask-kiosk.service
    systemctl enable mask-kiosk-screen.service
    echo "installed under $PREFIX; config /etc/mask-kiosk/kiosk.toml; a stable camera name: systemd/99-mask-kiosk-camera.rules"
    echo "set the admin password: sudo -u mask-kiosk MASK_KIOSK_CONFIG=/etc/mask-kiosk/kiosk.toml $PREFIX/.venv/bin/mask-kiosk set-password"
    exit 0
fi

# Debian packages, as root where apt exists; else say what is missing and go on (the kiosk runs without them)
packages=("${RUNTIME_PACKAGES[@]}")
[ "$mode" = dev ] && packages+=("${DEV_PACKAGES[@]}")
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "note: missing Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]}); tests that need them skip"
    fi
fi

python=${PYTHON:-python3}
if ! .venv/bin/python -c 'import sys' 2>/dev/null; then
    echo "creating .venv with $($python --version)"
    rm -rf .venv
    "$python" -m venv .venv
fi

requirements=(-r requirements.txt)
[ "$mode" = dev ] && requirements+=(-r requirements-dev.txt)
inputs_hash=$(cat requirements.txt requirements-dev.txt constraints.txt pyproject.toml | sha256sum | cut -c1-16)
stamp=.venv/.mask-kiosk-installed
if grep -qx "$inputs_hash $mode" "$stamp" 2>/dev/null || { [ "$mode" = base ] && grep -qx "$inputs_hash dev" "$stamp" 2>/dev/null; }; then
    echo "python dependencies: up to date"
else
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet "${requirements[@]}" -c constraints.txt
    .venv/bin/python -m pip install --quiet --no-deps -e .
    .venv/bin/python -m pip check
    echo "$inputs_hash $mode" > "$stamp"
fi

.venv/bin/mask-kiosk models build

echo "installed: .venv/bin/mask-kiosk"
