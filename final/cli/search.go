package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// hubSearch is Docker Hub's search API, the one docker search uses.
const hubSearch = "https://index.docker.io/v1/search"

func (a *app) searchCmd() *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "search [OPTIONS] TERM",
		Short: "Search Docker Hub (or a registry: HOST[:PORT]/TERM) for images",
		Long: "Search Docker Hub's index for TERM. With HOST[:PORT]/TERM, list the repositories of that registry\n" +
			"(its /v2/_catalog) whose name contains TERM; plain HTTP only for localhost and 127.0.0.0/8.",
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
			defer cancel()
			host, term, ok := strings.Cut(args[0], "/")
			if !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") {
				return a.searchHub(ctx, args[0], limit)
			}
			return a.searchCatalog(ctx, host, term, limit)
		},
	}
	c.Flags().IntVar(&limit, "limit", 25, "Max number of search results")
	return c
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// searchHub asks Docker Hub's index, as docker search does.
func (a *app) searchHub(ctx context.Context, term string, limit int) error {
	var res struct {
		Results []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Stars       int    `json:"star_count"`
			Official    bool   `json:"is_official"`
		} `json:"results"`
	}
	q := url.Values{"q": {term}, "n": {fmt.Sprint(limit)}}
	if err := getJSON(ctx, hubSearch+"?"+q.Encode(), &res); err != nil {
		return fmt.Errorf("search %s: %w", term, err)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESCRIPTION\tSTARS\tOFFICIAL")
	for _, r := range res.Results {
		official := ""
		if r.Official {
			official = "[OK]"
		}
		desc := r.Description
		if len([]rune(desc)) > 45 {
			desc = string([]rune(desc)[:44]) + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Name, desc, r.Stars, official)
	}
	return tw.Flush()
}

// searchCatalog lists a registry's repositories whose name contains term:
// the distribution API has no search, only GET /v2/_catalog.
func (a *app) searchCatalog(ctx context.Context, host, term string, limit int) error {
	scheme := "https"
	if h := strings.Split(host, ":")[0]; h == "localhost" || strings.HasPrefix(h, "127.") {
		scheme = "http"
	}
	var res struct {
		Repositories []string `json:"repositories"`
	}
	if err := getJSON(ctx, scheme+"://"+host+"/v2/_catalog?n=1000", &res); err != nil {
		return fmt.Errorf("search %s/%s: %w", host, term, err)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDESCRIPTION\tSTARS\tOFFICIAL")
	n := 0
	for _, repo := range res.Repositories {
		if strings.Contains(repo, term) && n < limit {
			fmt.Fprintf(tw, "%s/%s\t\t0\t\n", host, repo)
			n++
		}
	}
	return tw.Flush()
}
