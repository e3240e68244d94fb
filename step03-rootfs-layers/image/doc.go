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
// Docker 25+ writes both at once (an OCI layout with a manifest.json for
// the tags); older docker save names layers <v1 id>/layer.tar and links a
// repeated layer to its first copy; skopeo names them <diffID>.tar. Where
// a name is a digest, the blob is checked against it.
//
// # What goes wrong
//
// A blob whose bytes do not hash to the digest that names it is refused
// when read (ErrDigestMismatch): content addressing is what makes layers
// shareable and tamper-evident. A config without one diffID per layer is
// refused. A manifest that names "../../etc/shadow" cannot read it: an
// image directory is read through os.Root.
//
// # See also
//
// OCI image-spec: image-layout.md, manifest.md, config.md; moby
// image/tarexport (docker save); the Docker run reference for
// Entrypoint/Cmd.
package image
