#!/bin/sh
# Pid 1 of a Linux jail: the `linux` backend starts this from the jail's body (host.json
# `jails.init`, here /usr/local/share/clawdie/libexec/boot.sh) as root, chrooted into the jail
# root, in new mount, pid, net, uts and ipc namespaces, with a bounding set of setuid, setgid and
# setpcap only. Node, this script and the agent bundle are the body's, read-only (DESIGN §11). It finds the jail user in the jail's own /etc/passwd (refusing root and
# nobody), sends the agent's log to /var/log/clawdie/agent.log, and replaces itself with the agent
# as that user: uid/gid, no supplementary groups, no new privileges, no capabilities, a clean
# environment. The agent is then pid 1 of the jail and gets SIGTERM directly (no wrapper).
# The .env is not read here: the agent waits for it and watches it itself.
set -eu
PATH=/usr/local/bin:/usr/bin:/bin
user=${CLAWDIE_USER:-clawdie}
body=/usr/local/share/clawdie
node=$body/runtime/usr/local/bin/node
bundle=$body/libexec/clawdie-agent.mjs

uid=''
gid=''
while IFS=: read -r name _pw u g _rest; do
  if [ "$name" = "$user" ]; then
    uid=$u
    gid=$g
  fi
done </etc/passwd
case "$uid$gid" in
'' | *[!0-9]*)
  echo "clawdie boot: no numeric uid/gid for user $user in /etc/passwd" >&2
  exit 1
  ;;
esac
if [ "$uid" -eq 0 ] || [ "$gid" -eq 0 ] || [ "$uid" -eq 65534 ] || [ "$user" = nobody ]; then
  echo "clawdie boot: user $user maps to root or nobody; refused" >&2
  exit 1
fi

# The log is opened here, as root (/var/log/clawdie is root's, from the template): the agent can
# append to it but not replace or remove it.
exec >>/var/log/clawdie/agent.log 2>&1
# --no-short-builtin-calls: V8 places its code range next to node's embedded builtins by reading
# /proc/self/maps, which a jail does not have; it then copies the builtins (2 MiB of private
# memory per agent) to reach them with short calls. Measured: idle USS -2.2 MiB per jailed agent.
echo "clawdie boot: starting the agent as $user ($uid:$gid)"
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs \
  --inh-caps=-all --bounding-set=-all \
  env -i PATH="$PATH" HOME="/home/$user" USER="$user" CLAWDIE_USER="$user" LANG=C.UTF-8 \
  "$node" --disable-warning=ExperimentalWarning --no-short-builtin-calls "$bundle" run --root /
