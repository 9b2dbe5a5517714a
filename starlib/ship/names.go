// This file defines the reverse indexes that name the predeclared and
// Universe values a captured function holds indirectly (J = json,
// fs = [math.sqrt], f = len), so that they travel as names the engine
// resolves instead of as values.

package ship

import (
	"reflect"
	"strings"
	"sync"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
)

// nameIndex maps values to the predeclared or Universe name that holds
// them: "json", "math.sqrt", "len".
type nameIndex struct {
	dict   starlark.StringDict // the indexed dict, kept so its identity stays unique
	byVal  map[starlark.Value]string
	hostly map[starlark.Value]string // host-only values, for error messages
}

// nameCache holds the indexes of the last few predeclared dicts seen.
type nameCache struct {
	mu     sync.Mutex
	recent []*nameIndex
	sides  map[string]starlib.Side
}

const maxNameIndexes = 4

// universeIndex indexes starlark.Universe, which never changes.
var universeIndex = sync.OnceValue(func() *nameIndex {
	x := &nameIndex{byVal: make(map[starlark.Value]string), hostly: map[starlark.Value]string{}}
	for name, v := range starlark.Universe {
		x.add(name, v, false)
	}
	return x
})

// index returns the index of a predeclared dict, building it on first use.
func (c *nameCache) index(dict starlark.StringDict) *nameIndex {
	id := mapID(dict)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.recent {
		if mapID(x.dict) == id {
			return x
		}
	}
	if c.sides == nil {
		c.sides = starlib.Names()
	}
	x := &nameIndex{dict: dict, byVal: make(map[starlark.Value]string), hostly: make(map[starlark.Value]string)}
	for name, v := range dict {
		x.add(name, v, c.sides[name] == starlib.Host)
	}
	if len(c.recent) == maxNameIndexes {
		c.recent = c.recent[1:]
	}
	c.recent = append(c.recent, x)
	return x
}

// side returns the side of a predeclared name; names pirun does not list
// count as shared.
func (c *nameCache) side(name string) starlib.Side {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sides == nil {
		c.sides = starlib.Names()
	}
	return c.sides[name]
}

// known reports whether pirun predeclares name (on either side).
func (c *nameCache) known(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sides == nil {
		c.sides = starlib.Names()
	}
	_, ok := c.sides[name]
	return ok
}

// mapID returns the identity of a map.
func mapID(m starlark.StringDict) uintptr { return reflect.ValueOf(m).Pointer() }

// add indexes v under name, and its attributes under name.attr.
func (x *nameIndex) add(name string, v starlark.Value, hostOnly bool) {
	if isData(v) || !hashable(v) {
		return
	}
	if hostOnly {
		x.hostly[v] = name
		return
	}
	if _, ok := x.byVal[v]; !ok {
		x.byVal[v] = name
	}
	attrs, ok := v.(starlark.HasAttrs)
	if !ok || starlib.IsStub(v) {
		return
	}
	for _, attr := range attrs.AttrNames() {
		av, err := attrs.Attr(attr)
		if err != nil || av == nil || isData(av) || !hashable(av) {
			continue
		}
		if _, ok := x.byVal[av]; !ok {
			x.byVal[av] = name + "." + attr
		}
	}
}

// name returns the name under which the index holds v.
func (x *nameIndex) name(v starlark.Value) (string, bool) {
	if !hashable(v) {
		return "", false
	}
	name, ok := x.byVal[v]
	return name, ok
}

// methodName returns the dotted name of a bound method whose receiver is
// an indexed module (random.randint as a method of the random module).
func (x *nameIndex) methodName(b *starlark.Builtin) (string, bool) {
	recv, ok := x.name(b.Receiver())
	if !ok {
		return "", false
	}
	attr := b.Name()
	if i := strings.LastIndexByte(attr, '.'); i >= 0 {
		attr = attr[i+1:]
	}
	if has, ok := b.Receiver().(starlark.HasAttrs); !ok || !hasAttr(has, attr) {
		return "", false
	}
	return recv + "." + attr, true
}

// hasAttr reports whether x has the attribute attr.
func hasAttr(x starlark.HasAttrs, attr string) bool {
	v, err := x.Attr(attr)
	return err == nil && v != nil
}

// comparable reports whether v may be used as a map key.
func hashable(v starlark.Value) bool {
	t := reflect.TypeOf(v)
	return t != nil && t.Comparable()
}
