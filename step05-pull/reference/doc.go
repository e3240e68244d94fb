// Package reference turns what a user types after "docker pull" into the
// registry, repository and tag or digest to fetch, with Docker's defaults.
//
// # The idea
//
// "nginx" is short for "docker.io/library/nginx:latest": the registry
// defaults to Docker Hub (docker.io), a one-component name on Docker Hub lives
// in the "library" namespace of official images, and the tag defaults to
// "latest". "localhost:5000/app" names another registry, because its first
// component holds a ':' (a port), a '.' (a domain) or is "localhost".
// A digest ("@sha256:…") pins the exact manifest; Docker accepts a tag and a
// digest together ("nginx:1.27@sha256:…") and then pulls by the digest.
//
// The full form is what the engine stores and sends; the familiar form is
// what "docker images" prints: "nginx", "user/app", "localhost:5000/x".
//
// # The steps, in order
//
//  1. Split the domain from the rest: the first component, when it looks like
//     a host; otherwise docker.io (and "library/" in front of a single name).
//  2. Refuse upper case in the repository path (hosts may have it).
//  3. Parse the grammar of distribution/reference: path components of
//     [a-z0-9] joined by '.', '_', "__" or '-'; a tag of at most 128
//     [\w.-] characters; a digest "algorithm:hex".
//  4. Add the tag "latest" when there is neither a tag nor a digest.
//
// # What goes wrong
//
// Anything that does not fit the grammar is "invalid reference format",
// exactly Docker's words (ErrInvalidFormat). Docker Hub's API does not live
// at docker.io but at registry-1.docker.io (Host): a client that sends
// "GET https://docker.io/v2/" talks to a web site, not to a registry.
//
// # See also
//
// The grammar: https://github.com/distribution/reference/blob/main/reference.go;
// Docker's normalisation: distribution/reference normalize.go; the
// OCI distribution spec, "Pulling manifests".
package reference
