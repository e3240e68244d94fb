package daemon

import (
	"net/http"

	"minidocker/final/engine"
)

// networkingConfig is a create's NetworkingConfig: per network, the
// container's aliases there (docker run --network-alias).
type networkingConfig struct {
	EndpointsConfig map[string]*struct{ Aliases []string }
}

// aliases are the aliases asked for on network.
func (c networkingConfig) aliases(network string) []string {
	if ep := c.EndpointsConfig[network]; ep != nil {
		return ep.Aliases
	}
	return nil
}

// networkRoutes are the routes of docker network.
func (s *Server) networkRoutes() {
	s.handle("GET /networks", s.networkList)
	s.handle("POST /networks/create", s.networkCreate)
	s.handle("POST /networks/prune", s.networkPrune)
	s.handle("GET /networks/{id}", s.networkInspect)
	s.handle("DELETE /networks/{id}", s.networkDelete)
	s.handle("POST /networks/{id}/connect", s.networkConnect)
	s.handle("POST /networks/{id}/disconnect", s.networkDisconnect)
}

// The engine's Network has the API's field names: it is written as it is.

// networkList is GET /networks.
func (s *Server) networkList(w http.ResponseWriter, r *http.Request) error {
	nets, err := s.e.Networks()
	if err != nil {
		return err
	}
	if nets == nil {
		nets = []engine.Network{}
	}
	return writeJSON(w, http.StatusOK, nets)
}

// networkInspect is GET /networks/{id}.
func (s *Server) networkInspect(w http.ResponseWriter, r *http.Request) error {
	n, err := s.e.InspectNetwork(r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, n)
}

// networkCreate is POST /networks/create: 201 with the ID.
func (s *Server) networkCreate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name     string
		Driver   string
		Internal bool
		IPAM     *struct {
			Config []struct{ Subnet, Gateway string }
		}
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	o := engine.NetworkCreateOptions{Driver: req.Driver, Internal: req.Internal}
	if req.IPAM != nil && len(req.IPAM.Config) > 0 {
		o.Subnet, o.Gateway = req.IPAM.Config[0].Subnet, req.IPAM.Config[0].Gateway
	}
	n, err := s.e.CreateNetwork(req.Name, o)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"Id": n.ID, "Warning": ""})
}

// networkDelete is DELETE /networks/{id}: 204.
func (s *Server) networkDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.e.RemoveNetwork(r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// networkConnect is POST /networks/{id}/connect.
func (s *Server) networkConnect(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Container      string
		EndpointConfig *struct{ Aliases []string }
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	var aliases []string
	if req.EndpointConfig != nil {
		aliases = req.EndpointConfig.Aliases
	}
	if err := s.e.ConnectNetwork(r.PathValue("id"), req.Container, aliases); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// networkDisconnect is POST /networks/{id}/disconnect.
func (s *Server) networkDisconnect(w http.ResponseWriter, r *http.Request) error {
	var req struct{ Container string }
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := s.e.DisconnectNetwork(r.PathValue("id"), req.Container); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// networkPrune is POST /networks/prune.
func (s *Server) networkPrune(w http.ResponseWriter, r *http.Request) error {
	gone, err := s.e.PruneNetworks()
	if err != nil {
		return err
	}
	if gone == nil {
		gone = []string{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"NetworksDeleted": gone})
}
