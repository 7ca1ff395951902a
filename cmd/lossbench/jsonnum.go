package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// num is a JSON number that also accepts the strings "inf", "+inf",
// "-inf", "infinity", "-infinity" and "nan" (any case) for non-finite
// values.
type num float64

func (n *num) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, ok := parseNonFinite(s)
		if !ok {
			return fmt.Errorf("string %q is not a number (only \"inf\", \"-inf\" and \"nan\" may be strings)", s)
		}
		*n = num(v)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		return fmt.Errorf("null is not a number")
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && math.IsInf(v, 0) {
			return fmt.Errorf("number %s is out of the float64 range (write \"inf\" for infinity)", b)
		}
		return fmt.Errorf("%s is not a number", b)
	}
	*n = num(v)
	return nil
}

func parseNonFinite(s string) (float64, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "inf", "+inf", "infinity", "+infinity":
		return math.Inf(1), true
	case "-inf", "-infinity":
		return math.Inf(-1), true
	case "nan", "+nan", "-nan":
		return math.NaN(), true
	}
	return 0, false
}

// appendNum writes v as a JSON number, or as "inf", "-inf" or "nan".
// bits is 32 for values that came from float32 (shortest float32 form) or
// 64.
func appendNum(b []byte, v float64, bits int) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"nan"`...)
	case math.IsInf(v, 1):
		return append(b, `"inf"`...)
	case math.IsInf(v, -1):
		return append(b, `"-inf"`...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, bits)
}

// outNum is one output number.
type outNum struct {
	v    float64
	bits int
}

func (n outNum) MarshalJSON() ([]byte, error) { return appendNum(nil, n.v, n.bits), nil }

// outNums is an output array of numbers.
type outNums struct {
	v    []float64
	bits int
}

func (n outNums) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(n.v)*12)
	b = append(b, '[')
	for i, v := range n.v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNum(b, v, n.bits)
	}
	return append(b, ']'), nil
}
