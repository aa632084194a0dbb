package node

// The bit (LuaBitOp) and cjson libraries Redis scripts can use.

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

func openLuaBit(L *lua.LState) {
	tobit := func(L *lua.LState, i int) int32 {
		f := float64(L.CheckNumber(i))
		// LuaBitOp: numbers are taken modulo 2^32
		f = math.Mod(math.Trunc(f), 4294967296)
		if f < 0 {
			f += 4294967296
		}
		return int32(uint32(f))
	}
	ret := func(L *lua.LState, v int32) int { L.Push(lua.LNumber(v)); return 1 }
	fold := func(op func(a, b int32) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			v := tobit(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				v = op(v, tobit(L, i))
			}
			return ret(L, v)
		}
	}
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"tobit": func(L *lua.LState) int { return ret(L, tobit(L, 1)) },
		"bnot":  func(L *lua.LState) int { return ret(L, ^tobit(L, 1)) },
		"band":  fold(func(a, b int32) int32 { return a & b }),
		"bor":   fold(func(a, b int32) int32 { return a | b }),
		"bxor":  fold(func(a, b int32) int32 { return a ^ b }),
		"lshift": func(L *lua.LState) int {
			return ret(L, int32(uint32(tobit(L, 1))<<(uint32(tobit(L, 2))&31)))
		},
		"rshift": func(L *lua.LState) int {
			return ret(L, int32(uint32(tobit(L, 1))>>(uint32(tobit(L, 2))&31)))
		},
		"arshift": func(L *lua.LState) int {
			return ret(L, tobit(L, 1)>>(uint32(tobit(L, 2))&31))
		},
		"rol": func(L *lua.LState) int {
			x, n := uint32(tobit(L, 1)), uint32(tobit(L, 2))&31
			return ret(L, int32(x<<n|x>>((32-n)&31)))
		},
		"ror": func(L *lua.LState) int {
			x, n := uint32(tobit(L, 1)), uint32(tobit(L, 2))&31
			return ret(L, int32(x>>n|x<<((32-n)&31)))
		},
		"bswap": func(L *lua.LState) int {
			x := uint32(tobit(L, 1))
			return ret(L, int32(x>>24|(x>>8)&0xff00|(x<<8)&0xff0000|x<<24))
		},
		"tohex": func(L *lua.LState) int {
			x := uint32(tobit(L, 1))
			n := int32(8)
			if L.GetTop() >= 2 {
				n = tobit(L, 2)
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n = -n
				digits = "0123456789ABCDEF"
			}
			if n > 8 {
				n = 8
			}
			b := make([]byte, n)
			for i := int(n) - 1; i >= 0; i-- {
				b[i] = digits[x&15]
				x >>= 4
			}
			L.Push(lua.LString(b))
			return 1
		},
	}
	for n, f := range fns {
		t.RawSetString(n, L.NewFunction(f))
	}
	L.SetGlobal("bit", t)
}

func openLuaCjson(L *lua.LState) {
	null := L.NewUserData()
	t := L.NewTable()
	t.RawSetString("null", null)
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		var b bytes.Buffer
		if err := cjsonEncode(&b, L.Get(1), null, 0); err != "" {
			L.RaiseError("%s", err)
		}
		L.Push(lua.LString(b.String()))
		return 1
	}))
	t.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v interface{}
		if err := dec.Decode(&v); err != nil {
			off := 1
			if se, ok := err.(*json.SyntaxError); ok {
				off = int(se.Offset)
			}
			L.RaiseError("Expected value but found invalid token at character %d", off)
		}
		if dec.More() {
			L.RaiseError("Expected the end but found invalid token at character %d", dec.InputOffset()+1)
		}
		L.Push(cjsonToLua(L, v, null))
		return 1
	}))
	for _, n := range []string{"encode_keep_buffer", "encode_max_depth", "decode_max_depth", "encode_number_precision", "encode_sparse_array", "encode_invalid_numbers", "decode_invalid_numbers"} {
		t.RawSetString(n, L.NewFunction(func(L *lua.LState) int { return 0 }))
	}
	L.SetGlobal("cjson", t)
}

func cjsonToLua(L *lua.LState, v interface{}, null *lua.LUserData) lua.LValue {
	switch v := v.(type) {
	case nil:
		return null
	case bool:
		return lua.LBool(v)
	case json.Number:
		f, _ := strconv.ParseFloat(string(v), 64)
		return lua.LNumber(f)
	case string:
		return lua.LString(v)
	case []interface{}:
		t := L.CreateTable(len(v), 0)
		for i, x := range v {
			t.RawSetInt(i+1, cjsonToLua(L, x, null))
		}
		return t
	case map[string]interface{}:
		t := L.CreateTable(0, len(v))
		for k, x := range v {
			t.RawSetString(k, cjsonToLua(L, x, null))
		}
		return t
	}
	return lua.LNil
}

func cjsonNumber(b *bytes.Buffer, f float64) string {
	if math.IsInf(f, 0) || f != f {
		return "Cannot serialise number: must not be NaN or Inf"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e14 {
		b.WriteString(strconv.FormatInt(int64(f), 10))
		return ""
	}
	b.WriteString(strconv.FormatFloat(f, 'g', 14, 64))
	return ""
}

func cjsonString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch ch {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '/':
			b.WriteString(`\/`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if ch < 0x20 || ch == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[ch>>4])
				b.WriteByte("0123456789abcdef"[ch&15])
			} else {
				b.WriteByte(ch)
			}
		}
	}
	b.WriteByte('"')
}

func cjsonEncode(b *bytes.Buffer, v lua.LValue, null *lua.LUserData, depth int) string {
	if depth > 1000 {
		return "Cannot serialise, excessive nesting (1001)"
	}
	switch v := v.(type) {
	case *lua.LNilType:
		b.WriteString("null")
	case lua.LBool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case lua.LNumber:
		return cjsonNumber(b, float64(v))
	case lua.LString:
		cjsonString(b, string(v))
	case *lua.LUserData:
		if v == null {
			b.WriteString("null")
			return ""
		}
		return "Cannot serialise userdata: type not supported"
	case *lua.LTable:
		// array when every key is a positive integer
		max, n := 0, 0
		isArray := true
		v.ForEach(func(k, _ lua.LValue) {
			n++
			if num, ok := k.(lua.LNumber); ok && float64(num) == math.Trunc(float64(num)) && num >= 1 {
				if int(num) > max {
					max = int(num)
				}
				return
			}
			isArray = false
		})
		if isArray && n > 0 {
			if max > 10 && max > 2*n {
				return "Cannot serialise table: excessively sparse array"
			}
			b.WriteByte('[')
			for i := 1; i <= max; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				if err := cjsonEncode(b, v.RawGetInt(i), null, depth+1); err != "" {
					return err
				}
			}
			b.WriteByte(']')
			return ""
		}
		type kv struct {
			k string
			v lua.LValue
		}
		var items []kv
		var bad string
		v.ForEach(func(k, x lua.LValue) {
			switch k := k.(type) {
			case lua.LString:
				items = append(items, kv{string(k), x})
			case lua.LNumber:
				items = append(items, kv{k.String(), x})
			default:
				bad = "Cannot serialise " + k.Type().String() + ": table key must be a number or string"
			}
		})
		if bad != "" {
			return bad
		}
		sort.Slice(items, func(i, j int) bool { return items[i].k < items[j].k })
		b.WriteByte('{')
		for i, it := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			cjsonString(b, it.k)
			b.WriteByte(':')
			if err := cjsonEncode(b, it.v, null, depth+1); err != "" {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return "Cannot serialise " + v.Type().String() + ": type not supported"
	}
	return ""
}
