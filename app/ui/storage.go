package ui

import (
	"encoding/json"
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// localStorage is the browser's localStorage with go-app's encoding (JSON
// values), reachable without a Context: the shell needs the app-level
// client in OnInit, before its first render, so that the first thing the
// app draws is the signed-in view and not the prerendered sign-in page
// over the snapshot the page painted. Browser only.
type localStorage struct{}

var _ app.BrowserStorage = localStorage{}

func (localStorage) store() app.Value { return app.Window().Get("localStorage") }

func (s localStorage) Set(k string, v any) (err error) {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store %s: %w", k, err)
	}
	defer func() {
		if r := recover(); r != nil { // QuotaExceededError
			err = fmt.Errorf("store %s: %v", k, r)
		}
	}()
	s.store().Call("setItem", k, string(b))
	return nil
}

func (s localStorage) Get(k string, v any) error {
	item := s.store().Call("getItem", k)
	if item.IsNull() {
		return nil
	}
	if err := json.Unmarshal([]byte(item.String()), v); err != nil {
		return fmt.Errorf("read %s: %w", k, err)
	}
	return nil
}

func (s localStorage) Del(k string) { s.store().Call("removeItem", k) }

func (s localStorage) Clear() { s.store().Call("clear") }

func (s localStorage) Len() int { return s.store().Get("length").Int() }

func (s localStorage) ForEach(f func(key string)) {
	st := s.store()
	n := st.Get("length").Int()
	keys := make([]string, 0, n)
	for i := range n {
		if key := st.Call("key", i); key.Truthy() {
			keys = append(keys, key.String())
		}
	}
	for _, k := range keys {
		f(k)
	}
}

func (s localStorage) Contains(k string) bool { return !s.store().Call("getItem", k).IsNull() }
