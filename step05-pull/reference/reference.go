package reference

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// Docker's defaults.
const (
	// DefaultDomain is the registry of names without one: Docker Hub.
	DefaultDomain = "docker.io"
	// DockerHubHost is where Docker Hub's registry API answers: requests for
	// docker.io names go there, not to docker.io itself.
	DockerHubHost = "registry-1.docker.io"
	// OfficialNamespace is the Docker Hub namespace of one-component names:
	// "nginx" is "library/nginx".
	OfficialNamespace = "library"
	// DefaultTag is the tag of references with neither a tag nor a digest.
	DefaultTag = "latest"
)

// Reference is a parsed, normalised image reference. The zero value is not a
// valid reference; use Parse.
type Reference struct {
	domain string
	path   string
	tag    string
	digest digest.Digest
}

// Parse parses s the way "docker pull s" does: "nginx" becomes
// docker.io/library/nginx:latest. Invalid input gives an error matching
// ErrInvalidFormat.
func Parse(s string) (Reference, error) {
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		// The library has several errors (name empty, too long, 64-hex
		// IDs…); Docker shows them all as "invalid reference format". Keep
		// the explanation of the common mistake, upper case, which the
		// library writes as "invalid reference format: repository name
		// (library/Nginx) must be lowercase" without wrapping the sentinel.
		msg := err.Error()
		if detail, ok := strings.CutPrefix(msg, ErrInvalidFormat.Error()+": "); ok {
			return Reference{}, fmt.Errorf("%w: %s", ErrInvalidFormat, detail)
		}
		return Reference{}, ErrInvalidFormat
	}
	r := Reference{domain: reference.Domain(named), path: reference.Path(named)}
	if t, ok := named.(reference.Tagged); ok {
		r.tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		r.digest = d.Digest()
	}
	if r.tag == "" && r.digest == "" {
		r.tag = DefaultTag
	}
	return r, nil
}

// MustParse is Parse for constants in tests and examples; it panics on error.
func MustParse(s string) Reference {
	r, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return r
}

// Domain is the registry's name as written in the reference: "docker.io",
// "localhost:5000", "ghcr.io".
func (r Reference) Domain() string { return r.domain }

// Host is where the registry API answers: Domain, except for docker.io,
// whose API is at registry-1.docker.io (DockerHubHost).
func (r Reference) Host() string {
	if r.domain == DefaultDomain {
		return DockerHubHost
	}
	return r.domain
}

// IsDockerHub reports whether the reference names an image on Docker Hub, the
// only registry that Docker's registry mirrors stand in for.
func (r Reference) IsDockerHub() bool { return r.domain == DefaultDomain }

// Path is the repository inside the registry: "library/nginx", "user/app".
// It is the <name> of the distribution API's /v2/<name>/… URLs.
func (r Reference) Path() string { return r.path }

// Name is Domain and Path: "docker.io/library/nginx".
func (r Reference) Name() string { return r.domain + "/" + r.path }

// Tag is the tag: the one given, "latest" when neither a tag nor a digest was
// given, and "" for a reference by digest only.
func (r Reference) Tag() string { return r.tag }

// Digest is the manifest digest given after '@', or "".
func (r Reference) Digest() digest.Digest { return r.digest }

// Identifier is what goes after /manifests/ in the API: the digest when there
// is one (it wins over a tag, as in Docker), otherwise the tag.
func (r Reference) Identifier() string {
	if r.digest != "" {
		return r.digest.String()
	}
	return r.tag
}

// String is the full form: "docker.io/library/nginx:latest",
// "localhost:5000/x@sha256:…", "docker.io/library/nginx:1.27@sha256:…".
func (r Reference) String() string { return r.Name() + r.suffix() }

// Familiar is the repository as "docker images" shows it: "nginx",
// "user/app", "localhost:5000/x".
func (r Reference) Familiar() string {
	if r.domain != DefaultDomain {
		return r.Name()
	}
	// "library/a/b" keeps its namespace: only "library/x" is official.
	if rest, ok := strings.CutPrefix(r.path, OfficialNamespace+"/"); ok && !strings.Contains(rest, "/") {
		return rest
	}
	return r.path
}

// FamiliarString is Familiar with the tag and digest, as Docker's messages
// print a reference: "nginx:latest", "user/app@sha256:…".
func (r Reference) FamiliarString() string { return r.Familiar() + r.suffix() }

func (r Reference) suffix() string {
	s := ""
	if r.tag != "" {
		s += ":" + r.tag
	}
	if r.digest != "" {
		s += "@" + r.digest.String()
	}
	return s
}
