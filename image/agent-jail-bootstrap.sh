#!/bin/sh
#
# agent-jail-bootstrap.sh: creates (or converges) one tenant's agent jail on a FreeBSD host with
# Bastille, from the assembled template (dist/image-overlay, installed on the host) and a body
# version installed with `clawdie-host body install` (DESIGN §11), which the template mounts
# read-only. The spawner runs it as root, then provisions the jail's .env with
# `clawdie-host provision NAME`; this script handles no secret and writes nothing inside the jail
# but what the template makes.
#
# usage: agent-jail-bootstrap.sh [options] NAME
#   NAME                 tenant == jail name: ^[a-z0-9][a-z0-9-]{0,62}$
#   --ip ADDR            address for `bastille create` (required when the jail does not exist)
#   --interface IF       interface for `bastille create` (optional)
#   --release REL        FreeBSD release of the jail, e.g. 14.3-RELEASE
#                        (default: CLAWDIE_JAIL_RELEASE, else the host's freebsd-version -u)
#   --template DIR       absolute path of the template directory (its Bastillefile)
#                        (default: CLAWDIE_TEMPLATE_DIR, else /usr/local/share/clawdie-image/image-overlay)
#   --body DIR           absolute path of the body version the jail mounts (a link, such as the
#                        store's `current`, is resolved once here: the jail keeps that version)
#                        (default: CLAWDIE_BODY_DIR, else /usr/local/clawdie/bodies/current)
#   --pin VERSION        the agent version this host accepts (default: CLAWDIE_AGENT_PIN, else the
#                        first line of CLAWDIE_PIN_FILE, default /usr/local/etc/clawdie/agent.pin)
#   --fetch              on a cold cache, bootstrap the release once (else refuse)
#   --dry-run            print the bastille commands instead of running them
#
# Version pin: the body's bundle, line 2, reads "// clawdie-agent VERSION"; a bundle whose version is not
# the pin (or has none) is refused before anything is created, so a host never boots an agent its
# operator did not choose. There is no default pin: no pin is a usage error.
#
# Cold-cache guard: `bastille create` on a release that was never bootstrapped downloads and
# extracts a whole base system first (minutes, and network the spawner may not expect). Unless
# --fetch is given, a release missing from `bastille list releases` is refused with the command to
# warm the cache. With --fetch, concurrent bootstraps of one release serialize on a lock directory
# and the release is fetched once: whoever gets the lock second finds it cached.
#
# Idempotent: an existing jail is not re-created; the template is re-applied (it converges and
# restarts the agent; it does not switch the body of a jail that has one: clawdie-host body switch).
#
# Exit codes (as clawdie-host): 0 ok, 1 failure (a bastille step failed), 2 usage, 3 not found
# (template, body, bundle or bastille missing), 4 policy refusal (version pin, cold cache).

set -u

PROG="agent-jail-bootstrap"
EX_FAILURE=1
EX_USAGE=2
EX_NOTFOUND=3
EX_POLICY=4

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { _code=$1; shift; say "$*"; exit "$_code"; }
usage() {
	say "$*"
	printf '%s\n' "usage: agent-jail-bootstrap.sh [--ip ADDR] [--interface IF] [--release REL]" \
		"         [--template DIR] [--body DIR] [--pin VERSION] [--fetch] [--dry-run] NAME" >&2
	exit "$EX_USAGE"
}

# Runs (or, with --dry-run, prints) one bastille command.
bastille_run() {
	if [ "$dry_run" = yes ]; then
		printf 'bastille %s\n' "$*"
		return 0
	fi
	bastille "$@"
}

# True when WORD appears as a whole line or whitespace-separated token in the output of
# `bastille list KIND` (the listing format differs between Bastille versions).
bastille_lists() {
	_kind=$1
	_word=$2
	bastille list "$_kind" 2>/dev/null | tr -s ' \t' '\n\n' | grep -Fqx -- "$_word"
}

# The version in line 2 of a bundle, or nothing.
embedded_version() {
	sed -n '2{s#^// clawdie-agent \([0-9A-Za-z.+-]\{1,64\}\)$#\1#p;}' "$1" 2>/dev/null
}

valid_version() {
	case "$1" in
	"" | *[!0-9A-Za-z.+-]*) return 1 ;;
	esac
	[ "${#1}" -le 64 ]
}

ip="" iface="" release="${CLAWDIE_JAIL_RELEASE:-}" pin="${CLAWDIE_AGENT_PIN:-}"
template="${CLAWDIE_TEMPLATE_DIR:-/usr/local/share/clawdie-image/image-overlay}"
body="${CLAWDIE_BODY_DIR:-/usr/local/clawdie/bodies/current}"
fetch=no dry_run=no name=""

while [ $# -gt 0 ]; do
	case "$1" in
	--ip | --interface | --release | --template | --body | --pin)
		[ $# -ge 2 ] || usage "$1 needs a value"
		case "$1" in
		--ip) ip=$2 ;;
		--interface) iface=$2 ;;
		--release) release=$2 ;;
		--template) template=$2 ;;
		--body) body=$2 ;;
		--pin) pin=$2 ;;
		esac
		shift 2
		;;
	--fetch) fetch=yes; shift ;;
	--dry-run) dry_run=yes; shift ;;
	-h | --help) usage "creates one agent jail from the clawdie template" ;;
	--) shift; break ;;
	-*) usage "unknown option: $1" ;;
	*)
		[ -z "$name" ] || usage "only one NAME may be given"
		name=$1
		shift
		;;
	esac
done
[ $# -eq 0 ] || { [ -z "$name" ] && [ $# -eq 1 ] && name=$1; } || usage "only one NAME may be given"

# --- validate everything before touching anything ---------------------------------------------

[ -n "$name" ] || usage "NAME is required"
# case patterns, not grep: a NAME with a newline must not pass on its first line.
case "$name" in
[a-z0-9]*) ;;
*) usage "NAME must match ^[a-z0-9][a-z0-9-]{0,62}\$" ;;
esac
case "$name" in
*[!a-z0-9-]*) usage "NAME must match ^[a-z0-9][a-z0-9-]{0,62}\$" ;;
esac
[ "${#name}" -le 63 ] || usage "NAME must match ^[a-z0-9][a-z0-9-]{0,62}\$"
case "$template" in
/*) ;;
*) usage "--template must be an absolute path" ;;
esac
case "$body" in
/*) ;;
*) usage "--body must be an absolute path" ;;
esac
case "$body" in
*[!0-9A-Za-z._/+-]*) usage "--body must be a plain path" ;;
esac
case "$ip" in
*[!0-9A-Fa-f.:/]*) usage "--ip must be an IPv4 or IPv6 address" ;;
esac
case "$iface" in
*[!0-9A-Za-z._-]*) usage "--interface must be an interface name" ;;
esac

if [ -z "$pin" ]; then
	pin_file="${CLAWDIE_PIN_FILE:-/usr/local/etc/clawdie/agent.pin}"
	[ -r "$pin_file" ] && read -r pin < "$pin_file"
fi
[ -n "$pin" ] || usage "no version pin: give --pin, CLAWDIE_AGENT_PIN or ${CLAWDIE_PIN_FILE:-/usr/local/etc/clawdie/agent.pin}"
valid_version "$pin" || usage "the version pin is not a version"

if [ -z "$release" ] && command -v freebsd-version >/dev/null 2>&1; then
	release=$(freebsd-version -u | sed 's/-p[0-9]*$//')
fi
[ -n "$release" ] || usage "--release is required on a host without freebsd-version"
case "$release" in
*[!0-9A-Z.-]*) usage "--release must look like 14.3-RELEASE" ;;
[0-9]*.[0-9]*-RELEASE | [0-9]*.[0-9]*-STABLE | [0-9]*.[0-9]*-CURRENT | [0-9]*.[0-9]*-BETA* | [0-9]*.[0-9]*-RC*) ;;
*) usage "--release must look like 14.3-RELEASE" ;;
esac

[ -f "$template/Bastillefile" ] || die "$EX_NOTFOUND" "no Bastillefile in $template (run npm run build and install dist/image-overlay)"
# The version, not the link: the jail's fstab names the directory, so moving `current` later
# switches no jail behind its operator's back.
[ -d "$body" ] || die "$EX_NOTFOUND" "no body at $body (clawdie-host body install)"
body=$(cd "$body" && pwd -P) || die "$EX_NOTFOUND" "cannot resolve $body"
bundle="$body/libexec/clawdie-agent.mjs"
[ -f "$bundle" ] || die "$EX_NOTFOUND" "no agent bundle at $bundle"

# --- version pin ----------------------------------------------------------------------------

version=$(embedded_version "$bundle")
[ -n "$version" ] || die "$EX_POLICY" "refused: $bundle carries no clawdie-agent version line"
[ "$version" = "$pin" ] || die "$EX_POLICY" "refused: bundle is clawdie-agent $version, this host is pinned to $pin"
say "bundle clawdie-agent $version matches the pin"

# Even a dry run asks bastille what exists; it only skips the commands that change something.
command -v bastille >/dev/null 2>&1 || die "$EX_NOTFOUND" "bastille not found in PATH"

# --- cold-cache guard -----------------------------------------------------------------------

if ! bastille_lists releases "$release"; then
	[ "$fetch" = yes ] || die "$EX_POLICY" "refused: release $release is not bootstrapped (cold cache); run 'bastille bootstrap $release' once, or pass --fetch"
	lock="${CLAWDIE_BOOTSTRAP_LOCKDIR:-/var/run}/clawdie-bootstrap-$release.lock"
	waited=0
	until mkdir "$lock" 2>/dev/null; do
		[ "$waited" -lt "${CLAWDIE_BOOTSTRAP_LOCK_WAIT:-1800}" ] || die "$EX_FAILURE" "gave up waiting for $lock (remove it if no bootstrap is running)"
		sleep 2
		waited=$((waited + 2))
	done
	trap 'rmdir "$lock" 2>/dev/null' EXIT
	trap 'exit 1' INT TERM HUP
	if bastille_lists releases "$release"; then
		say "release $release was bootstrapped meanwhile"
	else
		say "cold cache: bootstrapping $release once"
		bastille_run bootstrap "$release" || die "$EX_FAILURE" "bastille bootstrap $release failed"
	fi
	rmdir "$lock" 2>/dev/null
	trap - EXIT INT TERM HUP
fi

# --- create (once) and apply the template ---------------------------------------------------

if bastille_lists jails "$name"; then
	say "jail $name exists; re-applying the template"
else
	[ -n "$ip" ] || usage "--ip is required to create jail $name"
	# shellcheck disable=SC2086 # iface is validated and may be empty
	bastille_run create "$name" "$release" "$ip" $iface || die "$EX_FAILURE" "bastille create $name failed"
fi
bastille_run template "$name" "$template" --arg "CLAWDIE_BODY=$body" || die "$EX_FAILURE" "bastille template $name failed"

say "jail $name runs clawdie-agent $version; next: clawdie-host provision $name"
exit 0
