package daemon

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// jsonProgress is one line of Docker's streamed pull: "status", "id",
// "progressDetail", or the in-band "errorDetail" once the 200 is out.
type jsonProgress struct {
	Status         string          `json:"status,omitempty"`
	ID             string          `json:"id,omitempty"`
	Progress       string          `json:"progress,omitempty"`
	ProgressDetail *progressDetail `json:"progressDetail,omitempty"`
	ErrorDetail    *errorDetail    `json:"errorDetail,omitempty"`
	Error          string          `json:"error,omitempty"`
	Aux            any             `json:"aux,omitempty"`
	Stream         string          `json:"stream,omitempty"`
}

type progressDetail struct {
	Current int64 `json:"current,omitempty"`
	Total   int64 `json:"total,omitempty"`
}

type errorDetail struct {
	Code    int    `json:"code,omitempty"`
	Message string `json:"message"`
}

// streamer writes a pull's events as JSON lines, each flushed: the 200
// goes out with the first.
type streamer struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	mu      sync.Mutex
	started bool
}

func (p *streamer) send(m jsonProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.started {
		p.w.Header().Set("Content-Type", "application/json")
		p.w.WriteHeader(http.StatusOK)
		p.started = true
	}
	line, _ := json.Marshal(m)
	p.w.Write(append(line, '\r', '\n'))
	p.rc.Flush()
}

func (p *streamer) Start(ref reference.Reference) {
	p.send(jsonProgress{Status: "Pulling from " + ref.Path(), ID: ref.Identifier()})
}

func (p *streamer) Event(e registry.Progress) {
	m := jsonProgress{Status: e.Status, ID: e.ID}
	if e.Total > 0 || e.Current > 0 {
		m.ProgressDetail = &progressDetail{Current: e.Current, Total: e.Total}
	} else {
		m.ProgressDetail = &progressDetail{}
	}
	p.send(m)
}

func (p *streamer) Done(d digest.Digest, ref reference.Reference, fresh bool) {
	p.send(jsonProgress{Status: "Digest: " + d.String()})
	if fresh {
		p.send(jsonProgress{Status: "Status: Downloaded newer image for " + ref.FamiliarString()})
	} else {
		p.send(jsonProgress{Status: "Status: Image is up to date for " + ref.FamiliarString()})
	}
}

// imageCreate is docker pull: POST /images/create?fromImage=busybox&tag=latest.
// An error before anything was streamed is a real HTTP error; after, it is
// an errorDetail line in the 200 stream, as dockerd does.
func (s *Server) imageCreate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ref, tag := q.Get("fromImage"), q.Get("tag")
	if ref == "" {
		return errdefs.InvalidParameter(errorString("fromImage is required (importing with fromSrc is not supported)"))
	}
	if tag != "" {
		if strings.HasPrefix(tag, "sha256:") {
			ref += "@" + tag
		} else {
			ref += ":" + tag
		}
	}
	o := s.pull
	if p := q.Get("platform"); p != "" {
		o.Platform = p
	}
	st := &streamer{w: w, rc: http.NewResponseController(w)}
	_, err := s.e.Pull(r.Context(), ref, o, st)
	return st.fail(err)
}

// fail ends a stream with err: a real HTTP error when nothing was
// streamed yet, else an errorDetail line in the 200 stream, as dockerd
// does.
func (p *streamer) fail(err error) error {
	if err == nil {
		return nil
	}
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if !started {
		return err
	}
	p.send(jsonProgress{ErrorDetail: &errorDetail{Message: err.Error()}, Error: err.Error()})
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

// imageSummary is one image of GET /images/json.
type imageSummary struct {
	ID          string `json:"Id"`
	ParentID    string `json:"ParentId"`
	RepoTags    []string
	RepoDigests []string
	Created     int64
	Size        int64
	SharedSize  int64
	VirtualSize int64
	Labels      map[string]string
	Containers  int64
}

func (s *Server) imageList(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, "dangling", "label")
	if err != nil {
		return err
	}
	filter, err := engine.NewImageFilter(engine.Filters(f))
	if err != nil {
		return err
	}
	images, err := s.e.Images()
	if err != nil {
		return err
	}
	out := []imageSummary{}
	for _, img := range images {
		if !filter.Match(&img) {
			continue
		}
		out = append(out, imageJSON(engine.ImageUsage{Image: img, SharedSize: -1, Containers: -1}))
	}
	return writeJSON(w, http.StatusOK, out)
}

// imageJSON is an image as GET /images/json shows it (SharedSize and
// Containers -1: not counted) and GET /system/df (counted).
func imageJSON(u engine.ImageUsage) imageSummary {
	img := u.Image
	tags, digests := img.RepoTags, img.RepoDigests
	if tags == nil {
		tags = []string{}
	}
	if digests == nil {
		digests = []string{}
	}
	labels := img.Config.Config.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return imageSummary{ID: img.ID.String(), RepoTags: tags, RepoDigests: digests,
		Created: img.Created.Unix(), Size: img.Size, VirtualSize: img.Size, SharedSize: u.SharedSize,
		Labels: labels, Containers: int64(u.Containers)}
}

func (s *Server) imageInspect(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(r.PathValue("name"), "/json")
	if !ok {
		return errdefs.NotFound(errorString("page not found"))
	}
	img, err := s.e.InspectImage(name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, img)
}

func (s *Server) imageDelete(w http.ResponseWriter, r *http.Request) error {
	lines, err := s.e.RemoveImage(r.PathValue("name"), boolValue(r, "force"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, deleteItems(lines))
}

// deleteItems are the engine's "Untagged: x" and "Deleted: y" lines as
// the API's [{"Untagged": "x"}, {"Deleted": "y"}].
func deleteItems(lines []string) []map[string]string {
	out := []map[string]string{}
	for _, l := range lines {
		if k, v, ok := strings.Cut(l, ": "); ok {
			out = append(out, map[string]string{k: v})
		}
	}
	return out
}

func (s *Server) imageSearch(w http.ResponseWriter, r *http.Request) error {
	limit, err := intValue(r, "limit", 25)
	if err != nil {
		return err
	}
	res, err := s.e.Search(r.Context(), r.URL.Query().Get("term"), limit)
	if err != nil {
		return err
	}
	type result struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		StarCount   int    `json:"star_count"`
		IsOfficial  bool   `json:"is_official"`
		IsAutomated bool   `json:"is_automated"`
	}
	out := []result{}
	for _, x := range res {
		out = append(out, result{Name: x.Name, Description: x.Description, StarCount: x.StarCount, IsOfficial: x.IsOfficial})
	}
	return writeJSON(w, http.StatusOK, out)
}
