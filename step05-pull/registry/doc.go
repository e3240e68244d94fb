// Package registry pulls images from a registry that speaks the distribution
// API (Docker Hub, ghcr.io, a local "docker-registry"), with every HTTP
// exchange written by hand so the protocol stays visible.
//
// # The idea
//
// "docker pull nginx" is a handful of HTTP GETs. The registry answers the
// first one with 401 and a WWW-Authenticate header naming a token server;
// the client fetches a token there (anonymously, or with the user name and
// password from ~/.docker/config.json) for the scope
// "repository:library/nginx:pull" and sends it as "Authorization: Bearer".
// The tag resolves to a manifest; for a multi-platform image that is an index
// (a "manifest list") from which the client picks the manifest of its own
// platform. The manifest names a config blob (the image's settings and the
// digests of the uncompressed layers, the diffIDs) and the compressed layer
// blobs. Every blob is content-addressed: the client hashes what it receives
// and refuses it unless the hash is the digest it asked for.
//
// # The requests, in order
//
//  1. GET /v2/ — 200 (no auth) or 401 with
//     "WWW-Authenticate: Bearer realm=…,service=…". HTTPS, unless the host
//     is local (localhost, 127.0.0.0/8, ::1) or named by WithInsecure; then
//     plain HTTP is tried when HTTPS fails, as Docker does.
//  2. GET <realm>?service=…&scope=repository:<path>:pull → {"token": …}
//     (with Basic credentials when we have some for the host).
//  3. GET /v2/<path>/manifests/<tag|digest> with an Accept header listing
//     the OCI index, the Docker manifest list, the OCI manifest and the
//     Docker schema 2 manifest. The Content-Type of the answer says which
//     one came back; its sha256 is the manifest digest.
//  4. For an index: pick os/architecture/variant, then GET the chosen
//     manifest by digest (and check that digest).
//  5. GET /v2/<path>/blobs/<config digest>, then the layer blobs, a few at a
//     time. Blob GETs are often answered with a redirect to a CDN; the
//     registry's Authorization header must not follow it to another host.
//  6. A connection cut mid-blob is resumed with "Range: bytes=<have>-<end>";
//     5xx answers are retried with back-off; at EOF the size and the digest
//     must match the manifest's descriptor.
//
// # What goes wrong
//
// Without the Accept header a registry may answer with the obsolete schema 1
// (Debian's docker-registry 2.8 converts to it) or refuse an OCI manifest.
// A client that trusts the bytes it streams to disk without hashing them
// unpacks whatever a mirror or a proxy hands it. Go's http.Client keeps the
// Authorization header on a redirect to the same host name on another port,
// so redirects are followed by hand here. Errors keep Docker's words:
// "pull access denied for x, repository does not exist or may require
// 'docker login'", "manifest for x:tag not found: manifest unknown",
// "toomanyrequests: …", "no matching manifest for linux/arm64 in the
// manifest list entries".
//
// # See also
//
// The OCI distribution spec (https://github.com/opencontainers/distribution-spec/blob/main/spec.md),
// the token protocol (https://distribution.github.io/distribution/spec/auth/token/),
// the OCI image spec (manifest, index, config), moby's distribution/pull_v2.go
// and go-containerregistry's pkg/v1/remote, which do the same with more care
// for every registry's quirks.
package registry
