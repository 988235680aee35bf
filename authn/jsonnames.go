package authn

import "hash/maphash"

// nameSet remembers the member names of one object: in place while they
// are few and short; beyond that, in a growing buffer indexed by hash, so
// that an object of thousands of names costs linear time and few
// allocations.
type nameSet struct {
	buf   [512]byte
	used  int
	ends  [32]uint16
	n     int
	names []byte            // every name, once past the small set
	spans []span            // of names, in order
	index map[uint64]uint32 // hash of a name → its position in spans
	seed  maphash.Seed
}

// add records name and reports whether it was new.
func (s *nameSet) add(name []byte) bool {
	if s.index == nil {
		from := 0
		for _, end := range s.ends[:s.n] {
			if string(s.buf[from:end]) == string(name) {
				return false
			}
			from = int(end)
		}
		if s.n < len(s.ends) && s.used+len(name) <= len(s.buf) {
			s.used += copy(s.buf[s.used:], name)
			s.ends[s.n] = uint16(s.used)
			s.n++
			return true
		}
		// Move to the large set.
		s.seed = maphash.MakeSeed()
		s.index = make(map[uint64]uint32, 2*len(s.ends))
		from = 0
		for _, end := range s.ends[:s.n] {
			name := s.buf[from:end]
			s.insert(name, maphash.Bytes(s.seed, name), false)
			from = int(end)
		}
	}
	h := maphash.Bytes(s.seed, name)
	i, taken := s.index[h]
	if taken {
		if sp := s.spans[i]; string(s.names[sp.off:sp.end]) == string(name) {
			return false
		}
		// A hash collision: compare with every name.
		for _, sp := range s.spans {
			if string(s.names[sp.off:sp.end]) == string(name) {
				return false
			}
		}
	}
	s.insert(name, h, taken)
	return true
}

// insert adds a name known to be new to the large set. When its hash is
// taken, the index keeps the first name with it.
func (s *nameSet) insert(name []byte, h uint64, taken bool) {
	off := len(s.names)
	s.names = append(s.names, name...)
	if !taken {
		s.index[h] = uint32(len(s.spans))
	}
	s.spans = append(s.spans, span{off: uint32(off), end: uint32(len(s.names))})
}
