package errdefs

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestHTTPStatus(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, http.StatusOK},
		{"no kind", base, http.StatusInternalServerError},
		{"not found", NotFound(base), http.StatusNotFound},
		{"conflict", Conflict(base), http.StatusConflict},
		{"invalid", InvalidParameter(base), http.StatusBadRequest},
		{"not modified", NotModified(base), http.StatusNotModified},
		{"unavailable", Unavailable(base), http.StatusServiceUnavailable},
		{"system", System(base), http.StatusInternalServerError},
		{"wrapped by fmt.Errorf", fmt.Errorf("stop web: %w", NotFound(base)), http.StatusNotFound},
		{"outermost kind wins", Conflict(fmt.Errorf("x: %w", NotFound(base))), http.StatusConflict},
		{"in errors.Join", errors.Join(errors.New("other"), InvalidParameter(base)), http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := HTTPStatus(tc.err); got != tc.want {
				t.Errorf("HTTPStatus(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestMarkKeepsTextAndChain(t *testing.T) {
	sentinel := errors.New("no such container")
	err := NotFound(fmt.Errorf("%w: web", sentinel))
	if err.Error() != "no such container: web" {
		t.Errorf("text changed: %q", err.Error())
	}
	if !errors.Is(err, sentinel) {
		t.Error("errors.Is lost the wrapped sentinel")
	}
	var nf ErrNotFound
	if !errors.As(err, &nf) {
		t.Error("errors.As(err, *ErrNotFound) = false")
	}
	if !IsNotFound(err) || IsConflict(err) || IsSystem(err) {
		t.Errorf("kinds of %v: NotFound %v Conflict %v System %v", err, IsNotFound(err), IsConflict(err), IsSystem(err))
	}
	if NotFound(nil) != nil || Conflict(nil) != nil {
		t.Error("marking nil must stay nil")
	}
	if !IsSystem(base()) || !IsNotModified(NotModified(base())) || !IsUnavailable(Unavailable(base())) || !IsInvalidParameter(InvalidParameter(base())) {
		t.Error("Is* disagree with the marks")
	}
}

func base() error { return errors.New("x") }
