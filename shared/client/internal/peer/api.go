//go:build !js

package peer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/parleychat/parley/shared/protocol"
)

// accessTTL is the lifetime of the access tokens the peer issues.
const accessTTL = time.Hour

func (p *Peer) routeAPI(mux *http.ServeMux) {
	mux.HandleFunc("POST "+protocol.PathSignup, p.signup)
	mux.HandleFunc("POST "+protocol.PathLogin, p.login)
	mux.HandleFunc("POST "+protocol.PathRefresh, p.refresh)
	mux.HandleFunc("POST "+protocol.PathLogout, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+protocol.PathRooms, p.listRooms)
	mux.HandleFunc("POST "+protocol.PathRooms, p.createRoom)
}

// AddUser creates an account.
func (p *Peer) AddUser(name, password string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[name] = password
}

func (p *Peer) signup(w http.ResponseWriter, r *http.Request) {
	var cred protocol.Credentials
	if !decode(w, r, &cred) {
		return
	}
	p.mu.Lock()
	_, taken := p.users[cred.Username]
	if !taken {
		p.users[cred.Username] = cred.Password
	}
	p.mu.Unlock()
	if taken {
		fail(w, http.StatusConflict, protocol.ErrConflict, "name taken")
		return
	}
	reply(w, http.StatusCreated, p.session(cred.Username))
}

func (p *Peer) login(w http.ResponseWriter, r *http.Request) {
	var cred protocol.Credentials
	if !decode(w, r, &cred) {
		return
	}
	p.mu.Lock()
	pw, ok := p.users[cred.Username]
	p.mu.Unlock()
	if !ok || pw != cred.Password {
		fail(w, http.StatusUnauthorized, protocol.ErrUnauthorized, "wrong name or password")
		return
	}
	reply(w, http.StatusOK, p.session(cred.Username))
}

func (p *Peer) refresh(w http.ResponseWriter, r *http.Request) {
	var req protocol.RefreshRequest
	if !decode(w, r, &req) {
		return
	}
	user, ok := strings.CutPrefix(req.RefreshToken, "refresh-")
	if !ok {
		fail(w, http.StatusUnauthorized, protocol.ErrUnauthorized, "unknown refresh token")
		return
	}
	user, _, _ = strings.Cut(user, ".")
	reply(w, http.StatusOK, p.session(user))
}

func (p *Peer) session(user string) protocol.Session {
	p.mu.Lock()
	p.issued++
	n := p.issued
	p.mu.Unlock()
	return protocol.Session{
		User:         user,
		AccessToken:  fmt.Sprintf("access-%s.%d", user, n),
		RefreshToken: fmt.Sprintf("refresh-%s.%d", user, n),
		ExpiresAt:    time.Now().Add(accessTTL).UnixMilli(),
	}
}

func (p *Peer) listRooms(w http.ResponseWriter, r *http.Request) {
	if !authorized(w, r) {
		return
	}
	p.mu.Lock()
	var list protocol.RoomList
	for name := range p.created {
		list.Rooms = append(list.Rooms, protocol.Room{Name: name, Epoch: p.epoch, Head: int64(len(p.rooms[name]))})
	}
	p.mu.Unlock()
	reply(w, http.StatusOK, list)
}

func (p *Peer) createRoom(w http.ResponseWriter, r *http.Request) {
	if !authorized(w, r) {
		return
	}
	var cr protocol.CreateRoom
	if !decode(w, r, &cr) {
		return
	}
	if err := protocol.CheckRoomName(cr.Name); err != nil {
		fail(w, http.StatusBadRequest, protocol.ErrBadRequest, err.Error())
		return
	}
	p.mu.Lock()
	exists := p.created[cr.Name]
	p.created[cr.Name] = true
	epoch := p.epoch
	p.mu.Unlock()
	if exists {
		fail(w, http.StatusConflict, protocol.ErrConflict, "room exists")
		return
	}
	reply(w, http.StatusCreated, protocol.Room{Name: cr.Name, Epoch: epoch, CreatedAt: time.Now().UnixMilli()})
}

func authorized(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer access-") {
		fail(w, http.StatusUnauthorized, protocol.ErrUnauthorized, "token required")
		return false
	}
	return true
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, protocol.MaxAPIBodyBytes)).Decode(v); err != nil {
		fail(w, http.StatusBadRequest, protocol.ErrBadRequest, "bad JSON")
		return false
	}
	return true
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	reply(w, status, protocol.APIError{Error: protocol.APIErrorBody{Code: code, Message: msg}})
}
