package apiclient

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/moby/moby/client"
)

// Save is GET /images/get?names=…: the daemon's tar, copied to w.
func (c *Client) Save(w io.Writer, refs []string) error {
	r, err := c.api.ImageSave(c.ctx, refs)
	if err != nil {
		return kind(err)
	}
	defer r.Close()
	if _, err := io.Copy(w, r); err != nil {
		return kind(err)
	}
	return nil
}

// Load is POST /images/load with the archive as the body; the answer is a
// stream of {"stream": "Loaded image: …\n"} lines.
func (c *Client) Load(r io.Reader) ([]string, error) {
	resp, err := c.api.ImageLoad(c.ctx, r, client.ImageLoadWithQuiet(true))
	if err != nil {
		return nil, kind(err)
	}
	defer resp.Close()
	var lines []string
	dec := json.NewDecoder(resp)
	for {
		var m struct {
			Stream      string
			ErrorDetail *struct{ Message string }
		}
		if err := dec.Decode(&m); err == io.EOF {
			return lines, nil
		} else if err != nil {
			return nil, kind(err)
		}
		if m.ErrorDetail != nil {
			return nil, kind(&daemonError{msg: m.ErrorDetail.Message, err: io.ErrUnexpectedEOF})
		}
		for l := range strings.Lines(m.Stream) {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
	}
}
