#!/usr/bin/env bash
# HTTPS encrypted by the kernel (kTLS), tested where the kernel has it: this machine's kernel
# may lack the "tls" module (CONFIG_TLS), so the test boots Debian's own kernel in QEMU
# (software emulation, no KVM needed), with this machine's root filesystem shared read-only
# over 9p and a work directory shared writable. Inside, ktls_vm_inner.sh runs mpserve with
# curl, openssl s_client and mpfetch on the VM's loopback and writes what it saw; this
# script checks it here. Nothing leaves the VM: it has no network card.
#
# usage: ktls_vm_test.sh MPSERVE MPFETCH     (exit 0 pass, 1 fail, 77 skip)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
MPSERVE=$(realpath "$1")
MPFETCH=$(realpath "$2")
# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"

skip() {
  echo "SKIP: $*"
  exit 77
}

qemu=$(command -v qemu-system-x86_64) || skip "no qemu-system-x86_64 (Debian package qemu-system-x86)"
[[ $(uname -m) == x86_64 ]] || skip "the VM is x86_64 only"
busybox=/bin/busybox
if [[ ! -x $busybox ]] || ldd "$busybox" >/dev/null 2>&1; then
  skip "no static busybox (Debian package busybox-static)"
fi
command -v modprobe >/dev/null || skip "no modprobe (Debian package kmod)"

# The newest installed kernel whose modules include tls.
kernel='' version=''
for image in $(find /boot -maxdepth 1 -name 'vmlinuz-*' | sort -rV); do
  candidate=${image#/boot/vmlinuz-}
  if [[ -r $image && -n $(find "/lib/modules/$candidate/kernel/net/tls" -name 'tls.ko*' 2>/dev/null) ]]; then
    kernel=$image version=$candidate
    break
  fi
done
[[ -n $kernel ]] || skip "no kernel image in /boot with the tls module (Debian package linux-image-amd64)"

make_workdir ktls-vm
# The VM writes here as root through 9p; the path is the same inside and out.
mkdir -p "$work/initrd"/{bin,modules,proc,sys,dev,host} "$work/www"

# The modules the VM needs, dependencies first: virtio and 9p for the shared filesystems,
# tls and the implementations of its ciphers (the crypto API finds those by name, not by
# module dependency: without chacha and poly1305 the kernel refuses ChaCha20 keys).
modules=$(for m in virtio_pci 9pnet_virtio 9p tls gcm aesni_intel ghash_clmulni_intel chacha20poly1305 \
    chacha_generic chacha_x86_64 poly1305_generic poly1305_x86_64; do
  modprobe -S "$version" --show-depends "$m" 2>/dev/null || true
done | awk '$1 == "insmod" && !seen[$2]++ {print $2}')
[[ $modules == *tls.ko* && $modules == *9p.ko* ]] ||
  skip "kernel $version: cannot resolve the tls and 9p modules (modules.dep missing?)"
for module in $modules; do
  name=$(basename "$module")
  case $name in
    *.ko) cp "$module" "$work/initrd/modules/$name" ;;
    *.ko.xz) xz -dc "$module" >"$work/initrd/modules/${name%.xz}" ;;
    *.ko.zst) zstd -qdc "$module" >"$work/initrd/modules/${name%.zst}" ;;
    *) skip "kernel $version: module format of $name not handled" ;;
  esac
  echo "${name%%.ko*}.ko" >>"$work/initrd/modules/order"
done
cp "$busybox" "$work/initrd/bin/busybox"
cat >"$work/initrd/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod "/modules/$m" 2>/dev/null || echo "init: insmod $m failed"; done
work=$(sed -n 's/.*mp_work=\([^ ]*\).*/\1/p' /proc/cmdline)
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro hostroot /host &&
   mount -t proc proc /host/proc && mount -t sysfs sys /host/sys && mount -t devtmpfs dev /host/dev &&
   ln -sf /proc/self/fd /host/dev/fd &&
   mount -t tmpfs tmp /host/tmp && mkdir -p "/host$work" &&
   mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 work "/host$work"; then
  chroot /host /bin/bash "$work/ktls_vm_inner.sh" "$work" >"/host$work/inner.log" 2>&1
  echo $? >"/host$work/inner.rc"
  sync
else
  echo "init: cannot mount the shared filesystems"
fi
poweroff -f
EOF
chmod +x "$work/initrd/init"
(cd "$work/initrd" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1 >"$work/initrd.gz")

cp "$here/ktls_vm_inner.sh" "$MPSERVE" "$MPFETCH" "$work/"
head -c $((24 << 20)) /dev/urandom >"$work/www/big.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

echo "booting $kernel in QEMU (software emulation) ..."
started=$SECONDS
# Bounded: a hung VM is ended by timeout, and the test fails below for want of inner.rc.
timeout 300 "$qemu" -accel tcg -cpu max -m 1536 -smp 2 -nographic -no-reboot -nic none \
  -kernel "$kernel" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 quiet panic=-1 mp_work=$work" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$work,mount_tag=work,security_model=none" \
  </dev/null >"$work/console.log" 2>&1 || true
echo "the VM ran $((SECONDS - started)) s"

if [[ ! -s $work/inner.rc ]]; then
  tail -n 30 "$work/console.log"
  fail "the VM did not run the test (console above)"
fi
cat "$work/inner.log"
[[ $(cat "$work/inner.rc") == 0 ]] || fail "inside the VM: $(grep -c '^FAIL' "$work/inner.log") check(s) failed"
echo "ok: kTLS inside a VM with kernel $version"
