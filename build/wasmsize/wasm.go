package main

import (
	"bytes"
	"errors"
	"fmt"
)

// module is what wasmsize reads from a WebAssembly binary.
type module struct {
	sections []section
	// imported is the number of imported functions: the code section's
	// first body is function index imported.
	imported uint32
	// bodies are the sizes of the code section's function bodies.
	bodies []int
	// names maps function indexes to the name section's names.
	names map[uint32]string
}

// section is one section's name ("code", "data", a custom section's own
// name) and size, its header included.
type section struct {
	name string
	size int
}

var sectionNames = [...]string{"custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"}

var errTruncated = errors.New("truncated module")

// reader decodes the LEB128 integers and vectors of the binary format.
type reader struct {
	b   []byte
	off int
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errTruncated
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *reader) u32() (uint32, error) {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("LEB128 integer too long")
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.off < n {
		return nil, errTruncated
	}
	r.off += n
	return r.b[r.off-n : r.off], nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(int(n))
	return string(b), err
}

// parse reads the sections of a WebAssembly binary, its imports, its code
// section's body sizes and its name section's function names.
func parse(b []byte) (*module, error) {
	if len(b) < 8 || !bytes.Equal(b[:4], []byte("\x00asm")) {
		return nil, errors.New("not a WebAssembly binary")
	}
	m := &module{names: make(map[uint32]string)}
	r := &reader{b: b, off: 8}
	for r.off < len(b) {
		start := r.off
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		body, err := r.bytes(int(size))
		if err != nil {
			return nil, err
		}
		s := section{size: r.off - start, name: fmt.Sprintf("id %d", id)}
		if int(id) < len(sectionNames) {
			s.name = sectionNames[id]
		}
		sr := &reader{b: body}
		switch id {
		case 0:
			if s.name, err = sr.name(); err == nil && s.name == "name" {
				err = m.readNames(sr)
			}
		case 2:
			err = m.readImports(sr)
		case 10:
			err = m.readCode(sr)
		}
		if err != nil {
			return nil, fmt.Errorf("%s section: %w", s.name, err)
		}
		m.sections = append(m.sections, s)
	}
	return m, nil
}

func (m *module) readImports(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		if _, err := r.name(); err != nil {
			return err
		}
		if _, err := r.name(); err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		switch kind {
		case 0: // function: type index
			m.imported++
			_, err = r.u32()
		case 1: // table: element type, limits
			if _, err = r.byte(); err == nil {
				err = r.limits()
			}
		case 2: // memory: limits
			err = r.limits()
		case 3: // global: value type, mutability
			if _, err = r.byte(); err == nil {
				_, err = r.byte()
			}
		default:
			err = fmt.Errorf("unknown import kind %d", kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) limits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if _, err := r.u32(); err != nil {
		return err
	}
	if flags&1 != 0 {
		_, err = r.u32()
	}
	return err
}

func (m *module) readCode(r *reader) error {
	n, err := r.u32()
	if err != nil {
		return err
	}
	for range n {
		size, err := r.u32()
		if err != nil {
			return err
		}
		if _, err := r.bytes(int(size)); err != nil {
			return err
		}
		m.bodies = append(m.bodies, int(size))
	}
	return nil
}

// readNames reads the function names subsection (1) of the name section.
func (m *module) readNames(r *reader) error {
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.u32()
		if err != nil {
			return err
		}
		sub, err := r.bytes(int(size))
		if err != nil {
			return err
		}
		if id != 1 {
			continue
		}
		sr := &reader{b: sub}
		n, err := sr.u32()
		if err != nil {
			return err
		}
		for range n {
			idx, err := sr.u32()
			if err != nil {
				return err
			}
			name, err := sr.name()
			if err != nil {
				return err
			}
			m.names[idx] = name
		}
	}
	return nil
}
