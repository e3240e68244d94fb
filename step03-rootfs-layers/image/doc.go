// Package image reads an image stored on disk in the two formats real tools
// write, and turns its config into the container's command and environment.
//
// # The idea
//
// An image is three kinds of JSON and some tarballs. A manifest lists the
// config and the layers by digest; the config holds the runtime defaults
// (Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts, StopSignal,
// Volumes) and the diffIDs, the digests of the *uncompressed* layers. The
// two on-disk formats store the same things differently:
//
//	docker save archive     manifest.json [{Config, RepoTags, Layers}], repositories, <files>
//	OCI image layout        oci-layout, index.json -> manifest -> config + layers, all in blobs/sha256/<hex>
//
// Both can be a directory or a tar of one. Load reads either; a tar is
// indexed once and each layer read in place (no copy to disk).
//
// # What goes wrong
//
// A blob whose bytes do not hash to the digest that names it is refused
// when read: content addressing is what makes layers shareable and
// tamper-evident. A config without one diffID per layer is refused.
//
// # See also
//
// OCI image-spec: image-layout.md, manifest.md, config.md; moby
// image/tarexport (docker save); the Docker run reference for
// Entrypoint/Cmd.
package image
