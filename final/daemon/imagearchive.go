package daemon

import (
	"encoding/json"
	"net/http"
	"strings"
)

// imageSave is docker save: GET /images/get?names=a&names=b (and GET
// /images/{name}/get for one), the archive as the body. The 200 goes out
// with the first bytes: an error after that can only cut the stream.
func (s *Server) imageSave(w http.ResponseWriter, r *http.Request, names []string) error {
	if len(names) == 0 {
		names = r.URL.Query()["names"]
	}
	w.Header().Set("Content-Type", "application/x-tar")
	return s.e.Save(w, names)
}

// imageLoad is docker load: POST /images/load, the archive as the body;
// the answer is dockerd's stream of {"stream": "Loaded image: …\n"}.
func (s *Server) imageLoad(w http.ResponseWriter, r *http.Request) error {
	lines, err := s.e.Load(r.Body)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for _, l := range lines {
		if err := enc.Encode(map[string]string{"stream": l + "\n"}); err != nil {
			return nil // the client went away
		}
	}
	return nil
}

// imageGet serves GET /images/{name}/json and /get.
func (s *Server) imageGet(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if n, ok := strings.CutSuffix(name, "/get"); ok {
		return s.imageSave(w, r, []string{n})
	}
	return s.imageInspect(w, r)
}
