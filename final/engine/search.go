package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"minidocker/final/errdefs"
)

// hubSearch is Docker Hub's search API, the one docker search uses.
const hubSearch = "https://index.docker.io/v1/search"

// SearchResult is one line of docker search.
type SearchResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int    `json:"star_count"`
	IsOfficial  bool   `json:"is_official"`
}

// Search is docker search of term, at most limit results: Docker Hub's
// index, or with HOST[:PORT]/TERM that registry's repositories whose name
// contains TERM (the distribution API has no search, only GET
// /v2/_catalog; plain HTTP only for localhost and 127.0.0.0/8). A registry
// that does not answer is Unavailable. It uses no data root: a zero Engine
// may search.
func (e *Engine) Search(ctx context.Context, term string, limit int) ([]SearchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	host, repo, ok := strings.Cut(term, "/")
	if !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return searchHub(ctx, term, limit)
	}
	return searchCatalog(ctx, host, repo, limit)
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return errdefs.InvalidParameter(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return errdefs.Unavailable(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errdefs.Unavailable(fmt.Errorf("GET %s: %s", u, resp.Status))
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func searchHub(ctx context.Context, term string, limit int) ([]SearchResult, error) {
	var res struct {
		Results []SearchResult `json:"results"`
	}
	q := url.Values{"q": {term}, "n": {fmt.Sprint(limit)}}
	if err := getJSON(ctx, hubSearch+"?"+q.Encode(), &res); err != nil {
		return nil, fmt.Errorf("search %s: %w", term, err)
	}
	return res.Results, nil
}

func searchCatalog(ctx context.Context, host, term string, limit int) ([]SearchResult, error) {
	scheme := "https"
	if h := strings.Split(host, ":")[0]; h == "localhost" || strings.HasPrefix(h, "127.") {
		scheme = "http"
	}
	var res struct {
		Repositories []string `json:"repositories"`
	}
	if err := getJSON(ctx, scheme+"://"+host+"/v2/_catalog?n=1000", &res); err != nil {
		return nil, fmt.Errorf("search %s/%s: %w", host, term, err)
	}
	var out []SearchResult
	for _, repo := range res.Repositories {
		if strings.Contains(repo, term) && len(out) < limit {
			out = append(out, SearchResult{Name: host + "/" + repo})
		}
	}
	return out, nil
}
