package main

import (
	"testing"
)

// leb appends v as an unsigned LEB128 integer.
func leb(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func vec(b []byte, s string) []byte { return append(leb(b, uint32(len(s))), s...) }

func sec(b []byte, id byte, body []byte) []byte {
	return append(leb(append(b, id), uint32(len(body))), body...)
}

// TestParse reads a module with one imported function, two bodies and
// their names, as the Go linker writes them.
func TestParse(t *testing.T) {
	mod := []byte("\x00asm\x01\x00\x00\x00")
	var imp []byte
	imp = leb(imp, 2)
	imp = vec(vec(imp, "go"), "debug")
	imp = leb(append(imp, 0), 0) // a function of type 0
	imp = vec(vec(imp, "go"), "mem")
	imp = leb(leb(append(imp, 2), 0), 16) // memory, min 16, no max
	mod = sec(mod, 2, imp)
	code := leb(nil, 2)
	code = append(leb(code, 3), 0, 0x0b, 0x0b)
	code = append(leb(code, 200), make([]byte, 200)...)
	mod = sec(mod, 10, code)
	var fn []byte
	fn = leb(fn, 2)
	fn = vec(leb(fn, 1), "net_http.__Client_.Do")
	fn = vec(leb(fn, 2), "github.com_a_b_c.F")
	names := vec(nil, "name")
	names = append(leb(append(names, 1), uint32(len(fn))), fn...)
	mod = sec(mod, 0, names)

	m, err := parse(mod)
	if err != nil {
		t.Fatal(err)
	}
	if m.imported != 1 {
		t.Errorf("imported = %d, want 1", m.imported)
	}
	if len(m.bodies) != 2 || m.bodies[0] != 3 || m.bodies[1] != 200 {
		t.Errorf("bodies = %v, want [3 200]", m.bodies)
	}
	if m.names[1] != "net_http.__Client_.Do" || m.names[2] != "github.com_a_b_c.F" {
		t.Errorf("names = %v", m.names)
	}
	var got []string
	for _, s := range m.sections {
		got = append(got, s.name)
	}
	if want := []string{"import", "code", "name"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("sections = %v, want %v", got, want)
	}
	if _, err := parse(mod[:len(mod)-3]); err == nil {
		t.Error("a truncated module parsed")
	}
	if _, err := parse([]byte("not wasm")); err == nil {
		t.Error("a non-module parsed")
	}
}

func TestPackageOf(t *testing.T) {
	p := newPackages([]string{"net", "net/http", "github.com/a-b/c", "github.com/a-b/c/d", "slices"})
	for sym, want := range map[string]string{
		"net_http.__Client_.Do":                     "net/http",
		"net.Dial":                                  "net",
		"github.com_a_b_c.__T_.M":                   "github.com/a-b/c",
		"github.com_a_b_c_d.F.func1":                "github.com/a-b/c/d",
		"slices.Sort_go.shape.struct___A_net.Conn_": "slices",
		"type_.eq.foo":                              "type_",
		"memchr":                                    "memchr",
	} {
		if got := p.of(sym); got != want {
			t.Errorf("of(%q) = %q, want %q", sym, got, want)
		}
	}
}
