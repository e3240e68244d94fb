// Package store keeps pulled images on disk, content-addressed: every blob
// is named by the digest of its bytes, and every unpacked layer by the
// digest of its tar (its diffID).
//
// # The idea
//
// A name such as "busybox:latest" is only a pointer that can move; what it
// points at is a digest, and a digest names exactly one sequence of bytes.
// That gives the store its two properties for free:
//
//   - shareable: two images built FROM the same base list the same layer
//     digest, so the layer is downloaded and unpacked once, and the second
//     pull prints "Already exists";
//   - tamper-evident: a blob that does not hash to its name is refused, so
//     a registry (or a disk) cannot hand us something else than the
//     manifest promised, and the manifest itself is named by its digest.
//
// # The layout
//
//	<root>/                   0700: only root walks in
//	<root>/images/
//	  lock                    flock(2): every change of the index, every deletion
//	  repositories.json       names -> digests, and the images by config digest
//	  blobs/sha256/<hex>      manifests and configs, each verified
//	<root>/layers/            step 3's layer store: sha256/<diffID hex>/, l/<short link>
//
// repositories.json:
//
//	{"refs":   {"docker.io/library/busybox:latest":
//	               {"digest": "sha256:<index or manifest>", "image": "sha256:<config>"}},
//	 "images": {"sha256:<config>": {"manifest": "sha256:<manifest>", "pulled": "…"}}}
//
// The image ID that docker images shows is the config's digest (its first
// 12 hex digits); "Digest:" in docker pull's output is the digest of what
// the name points at, the index for a multi-platform image.
//
// # Pull, in order
//
//  1. The registry client resolves the name to a manifest for our platform
//     and fetches the config (package registry).
//  2. Each layer not yet stored streams from the network through gzip and
//     the diffID check straight into a temporary directory (layers.Unpack),
//     a few at a time; the directory is renamed into place only when the
//     blob's digest and the diffID both matched. Nothing is buffered whole
//     in memory, and no compressed copy is kept: like Docker, we keep the
//     unpacked layers only.
//  3. Under the lock: the config and manifest blobs are written (temp file,
//     fsync, rename), then the index (temp file, fsync, rename).
//
// The name goes last. A pull killed at any moment leaves at worst a
// temporary file or directory that nothing names, or whole layers no image
// uses yet; never a name whose image is incomplete. The next pull finds
// the finished layers ("Already exists") and completes. The next command
// that takes the lock (a pull naming its image, an rmi) sweeps the dead
// pull's temporaries: a blob's temporary file is only ever written under
// the lock, so its writer is gone; a layer's temporary directory is
// written under the layer's own flock, and one whose flock can be taken
// without waiting has no living writer (the kernel drops a flock when its
// holder dies, even by SIGKILL). A live pull's temporaries stay.
//
// # Private
//
// The data root, images/, its blobs and the layer store are 0700, made so
// again on every Open: a layer may hold a setuid-root binary, which any
// local user able to reach it would run with euid 0.
//
// # Tag and push
//
// A tag is one more name in repositories.json, pointing at the same config
// digest; nothing is copied. It has no repository digest until a push puts
// the image in that repository. A push needs the layers as tars, and the
// store keeps files: the layer store wrote each tar's layout down while it
// unpacked it (tar-split), so the same tar, with the same diffID, comes
// back. The registry may already have a layer: the blob it was pulled as
// (in the repositories of the image's names) or one an earlier push left
// (repositories.json "blobs", by diffID); those are found with HEAD or
// mounted from their repository, and only the others are compressed again
// and sent. The image ID stays the same wherever the image goes.
//
// # Remove (rmi) and garbage collection
//
// Removing a name deletes the image only when no other name points at it
// and no container uses it. Then its config and manifest go, and each of its
// layers that no remaining image lists. The index is written before any file
// is deleted: a crash in between leaves unreferenced files, which the next
// removal collects, never a name without its files. Docker's refusals:
// an image in use ("must force"), an image ID named in several repositories.
//
// Prune (docker image prune) is the same collection for many images at
// once, under one hold of the lock: the caller's predicate picks them
// (dangling, unused), they lose all their names, and a layer goes only
// when no remaining image lists it; it reports the bytes those layers
// held.
//
// # What goes wrong
//
// Writing a blob in place instead of temp+rename: a crash leaves a file
// with the right name and half the bytes, and every later reader trusts
// it. Updating the index without the lock: two concurrent pulls each read
// the old index and the last write drops the other's name. Deleting layers
// without the lock: a concurrent pull that found a layer "Already exists"
// names an image whose layer is gone (Pull checks again under the lock).
//
// # See also
//
// OCI image-spec (manifest.md, config.md, image-index.md, descriptor.md
// on digests); moby's image/ and layer/ stores; containerd's content store.
package store
