#!/bin/sh
# Builds small seed images for the fuzz targets with the real mkfs.ext4:
#   sh make-seeds.sh && cargo fuzz run dir_block corpus/dir_block
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/d"
echo hello > "$tmp/src/file"
ln -s file "$tmp/src/link"
i=0
while [ $i -lt 200 ]; do : > "$tmp/src/d/entry-$(printf %05d $i)"; i=$((i + 1)); done
for target in superblock inode extent_tree dir_block htree; do
    mkdir -p "$here/corpus/$target"
done
n=0
for opts in "-t ext2" "-t ext3" "-t ext4 -O ^has_journal" "-t ext4 -O inline_data,^has_journal" "-t ext4 -O ^64bit,^metadata_csum,^has_journal"; do
    # shellcheck disable=SC2086
    mkfs.ext4 -q -F -b 1024 -N 256 $opts -d "$tmp/src" "$tmp/img" 512k
    e2fsck -fyD "$tmp/img" >/dev/null 2>&1 || true
    for target in superblock inode extent_tree dir_block htree; do
        cp "$tmp/img" "$here/corpus/$target/seed-$n"
    done
    n=$((n + 1))
done
