package daemon

import (
	"net/http"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/final/errdefs"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// imagePost serves POST /images/{name}/tag and POST /images/{name}/push:
// a name has slashes, so the action is its last element.
func (s *Server) imagePost(w http.ResponseWriter, r *http.Request) error {
	path := r.PathValue("name")
	if name, ok := strings.CutSuffix(path, "/tag"); ok {
		return s.imageTag(w, r, name)
	}
	if name, ok := strings.CutSuffix(path, "/push"); ok {
		return s.imagePush(w, r, name)
	}
	return errdefs.NotFound(errorString("page not found"))
}

// imageTag is docker tag: POST /images/{name}/tag?repo=…&tag=… (201).
func (s *Server) imageTag(w http.ResponseWriter, r *http.Request, name string) error {
	q := r.URL.Query()
	target := q.Get("repo")
	if target == "" {
		return errdefs.InvalidParameter(errorString("repository name (repo) not specified"))
	}
	if tag := q.Get("tag"); tag != "" {
		target += ":" + tag
	}
	if err := s.e.Tag(name, target); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// pushStreamer writes a push's events as dockerd does: the lines of a
// pull's stream, the digest line, and the "aux" record the docker CLI
// reads the digest from.
type pushStreamer struct{ *streamer }

func (p pushStreamer) Start(ref reference.Reference) {
	p.send(jsonProgress{Status: "The push refers to repository [" + ref.Name() + "]"})
}

func (p pushStreamer) Done(ref reference.Reference, m ocispec.Descriptor) {
	p.send(jsonProgress{Status: registry.FormatPushed(ref.Tag(), m)})
	p.send(jsonProgress{Aux: map[string]any{"Tag": ref.Tag(), "Digest": m.Digest.String(), "Size": m.Size}})
}

// imagePush is docker push: POST /images/{name}/push?tag=…, with the
// credentials (if any) in X-Registry-Auth; ours come from the daemon's
// Docker config file instead, as the registry client reads it.
func (s *Server) imagePush(w http.ResponseWriter, r *http.Request, name string) error {
	ref := name
	if tag := r.URL.Query().Get("tag"); tag != "" {
		ref += ":" + tag
	}
	st := pushStreamer{&streamer{w: w, rc: http.NewResponseController(w)}}
	_, err := s.e.Push(r.Context(), ref, s.pull, st)
	return st.fail(err)
}
