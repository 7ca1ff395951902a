package collective

import (
	"strconv"
	"sync"

	"github.com/lossengine/lossengine/device"
)

// NewLocal returns n communicators of one in-process group: rank r is
// used by one goroutine (typically driving its own device). AllReduce
// blocks until all n ranks have called it, combines the contributions in
// rank order (Combine) and gives every rank the same bits. A mismatch of
// lengths, dtypes or ops between the ranks of one call is an *Error on
// every rank. n < 1 gives nil.
func NewLocal(n int) []Communicator {
	if n < 1 {
		return nil
	}
	g := &localGroup{n: n}
	cs := make([]Communicator, n)
	for r := range cs {
		cs[r] = &local{g: g, rank: r}
	}
	return cs
}

type localGroup struct {
	mu  sync.Mutex
	n   int
	cur *localRound
}

// localRound is one AllReduce call of the group.
type localRound struct {
	parts   [][]float64
	dtypes  []device.DType
	ops     []Op
	arrived int
	done    chan struct{}
	result  []float64
	err     string
}

type local struct {
	g    *localGroup
	rank int
}

func (c *local) Rank() int { return c.rank }
func (c *local) Size() int { return c.g.n }

func (c *local) AllReduce(buf device.Buffer, op Op) error {
	// A bad argument still joins the round (with no data), so the other
	// ranks fail too instead of waiting forever.
	var v []float64
	var dt device.DType
	bad := CheckBuffer(c.rank, buf)
	if bad == nil && !op.Valid() {
		bad = errorf(c.rank, "unknown op %d", int(op))
	}
	if bad == nil {
		dt = buf.DType()
		var err error
		if v, err = ReadFloat64(buf); err != nil {
			bad = &Error{Op: "allreduce", Rank: c.rank, Msg: "reading the buffer: " + err.Error(), Err: err}
		}
	}
	g := c.g
	g.mu.Lock()
	r := g.cur
	if r == nil {
		r = &localRound{parts: make([][]float64, g.n), dtypes: make([]device.DType, g.n), ops: make([]Op, g.n),
			done: make(chan struct{})}
		g.cur = r
	}
	r.parts[c.rank], r.dtypes[c.rank], r.ops[c.rank] = v, dt, op
	if bad != nil {
		r.parts[c.rank] = nil
		if r.err == "" {
			r.err = "rank " + strconv.Itoa(c.rank) + " gave a bad argument"
		}
	}
	r.arrived++
	if r.arrived == g.n {
		g.cur = nil
		r.finish()
		close(r.done)
	}
	g.mu.Unlock()
	<-r.done
	if bad != nil {
		return bad
	}
	if r.err != "" {
		return errorf(c.rank, "%s", r.err)
	}
	return WriteFloat64(buf, r.result)
}

// finish checks that the contributions agree and combines them.
func (r *localRound) finish() {
	if r.err != "" {
		return
	}
	if msg := Agree(r.parts, r.dtypes, r.ops); msg != "" {
		r.err = msg
		return
	}
	r.result = make([]float64, len(r.parts[0]))
	Combine(r.result, r.parts, r.ops[0])
}

// Agree says how the ranks' contributions to one call disagree (lengths,
// dtypes, ops), or "" when they agree.
func Agree(parts [][]float64, dtypes []device.DType, ops []Op) string {
	for q := 1; q < len(parts); q++ {
		switch {
		case len(parts[q]) != len(parts[0]):
			return "ranks disagree on the buffer length: rank 0 has " + strconv.Itoa(len(parts[0])) + ", rank " + strconv.Itoa(q) +
				" has " + strconv.Itoa(len(parts[q]))
		case dtypes[q] != dtypes[0]:
			return "ranks disagree on the dtype: rank 0 has " + dtypes[0].String() + ", rank " + strconv.Itoa(q) + " has " +
				dtypes[q].String()
		case ops[q] != ops[0]:
			return "ranks disagree on the op: rank 0 asks " + ops[0].String() + ", rank " + strconv.Itoa(q) + " asks " +
				ops[q].String()
		}
	}
	return ""
}
