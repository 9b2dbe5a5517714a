// This file defines the format builtin: Python's format(value, spec) with
// its format-spec mini-language, for ints, floats, strings and bools.

package starlib

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// maxFormatWidth bounds the width and the precision of a format spec, so
// that a typo cannot ask for a string of gigabytes.
const maxFormatWidth = 1 << 20

// def format(value, spec=""):
//
// format returns value formatted by spec, Python's format-spec mini
// language: [[fill]align][sign][z][#][0][width][grouping][.precision][type].
//
//   - align is < (left), > (right), ^ (centre) or = (padding after the sign,
//     numbers only); fill is any one character, a space by default.
//   - sign is + (always), - (negatives only, the default) or a space (a
//     space for positives); z turns a negative zero float into 0.
//   - # adds 0b, 0o, 0x or 0X to ints, and keeps the decimal point of
//     floats; 0 before width pads numbers with zeros after the sign.
//   - grouping is , (thousands, decimal types) or _ (thousands, or every
//     four digits for b, o, x and X).
//   - ints take b c d o x X n (d by default) and the float types, which
//     convert them; floats take e E f F g G n % (like repr, or like g with
//     at least one decimal when a precision is given, by default);
//     strings take s, with precision as the maximum length. A bool formats
//     as "True"/"False" with an empty spec, else as the int 1 or 0.
//
// Other values accept only the empty spec, which gives str(value). The
// results are those of CPython 3: format(3.14159, ".2f") is "3.14",
// format(42, ">8d") is "      42", format(1234567, ",") is "1,234,567",
// format(0.5, ".1%") is "50.0%", format(float("nan"), "F") is "NAN". A
// malformed spec, or one that does not apply to the value, is an error
// that names the spec and the value's type.
func format(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var value starlark.Value
	var spec string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &value, &spec); err != nil {
		return nil, err
	}
	s, err := formatValue(value, spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.String(s), nil
}

// formatValue returns v formatted by spec, as Python's format(v, spec).
func formatValue(v starlark.Value, spec string) (string, error) {
	switch v := v.(type) {
	case starlark.Bool:
		if spec == "" {
			return v.String(), nil
		}
		n := 0
		if v {
			n = 1
		}
		return formatInt(starlark.MakeInt(n), spec, "bool")
	case starlark.Int:
		return formatInt(v, spec, "int")
	case starlark.Float:
		sp, err := parseSpec(spec, 0)
		if err != nil {
			return "", specError(spec, "float", err)
		}
		s, err := formatFloat(float64(v), sp)
		if err != nil {
			return "", specError(spec, "float", err)
		}
		return s, nil
	case starlark.String:
		return formatString(string(v), spec)
	}
	if spec == "" {
		return v.String(), nil
	}
	return "", fmt.Errorf("cannot format a %s with spec %q: only int, float, string and bool take a spec (use str(x) or format each element)", v.Type(), spec)
}

// specError says which spec failed for which type, and why.
func specError(spec, typ string, err error) error {
	return fmt.Errorf("format spec %q for %s: %v", spec, typ, err)
}

// A fmtSpec is a parsed format spec. Absent fields are 0, or -1 for width
// and precision.
type fmtSpec struct {
	fill, align, sign rune
	noNegZero, alt    bool
	width             int
	grouping          rune // ',' or '_'
	groupEvery        int  // 3, or 4 for _ with b, o, x and X
	precision         int
	typ               rune
}

// isAlign reports whether r is an alignment character.
func isAlign(r rune) bool { return r == '<' || r == '>' || r == '^' || r == '=' }

// parseSpec parses spec for a value whose type is defaultType when spec
// gives none (d for ints, s for strings, 0 for floats), as CPython's
// parse_internal_render_format_spec does.
func parseSpec(spec string, defaultType rune) (fmtSpec, error) {
	sp := fmtSpec{fill: ' ', width: -1, precision: -1, typ: defaultType}
	r := []rune(spec)
	fillGiven := false
	switch {
	case len(r) >= 2 && isAlign(r[1]):
		sp.fill, sp.align, fillGiven, r = r[0], r[1], true, r[2:]
	case len(r) >= 1 && isAlign(r[0]):
		sp.align, r = r[0], r[1:]
	}
	if len(r) > 0 && (r[0] == '+' || r[0] == '-' || r[0] == ' ') {
		sp.sign, r = r[0], r[1:]
	}
	if len(r) > 0 && r[0] == 'z' {
		sp.noNegZero, r = true, r[1:]
	}
	if len(r) > 0 && r[0] == '#' {
		sp.alt, r = true, r[1:]
	}
	if !fillGiven && len(r) > 0 && r[0] == '0' {
		sp.fill, r = '0', r[1:]
		if sp.align == 0 && defaultType != 's' {
			sp.align = '='
		}
	}
	var err error
	if sp.width, r, err = specInt(r, "width"); err != nil {
		return sp, err
	}
	if len(r) > 0 && (r[0] == ',' || r[0] == '_') {
		sp.grouping, r = r[0], r[1:]
		if len(r) > 0 && (r[0] == ',' || r[0] == '_') {
			return sp, fmt.Errorf("cannot specify both ',' and '_'")
		}
	}
	if len(r) > 0 && r[0] == '.' {
		if sp.precision, r, err = specInt(r[1:], "precision"); err != nil {
			return sp, err
		}
		if sp.precision < 0 {
			return sp, fmt.Errorf("missing precision after '.'")
		}
	}
	switch {
	case len(r) > 1:
		return sp, fmt.Errorf("invalid format spec: %q is left over after the width and precision (the layout is [[fill]align][sign][z][#][0][width][grouping][.precision][type])", string(r))
	case len(r) == 1:
		sp.typ = r[0]
	}
	return sp, sp.checkGrouping()
}

// specInt parses the decimal digits at the start of r: -1 if there are
// none.
func specInt(r []rune, what string) (int, []rune, error) {
	n, i := 0, 0
	for ; i < len(r) && r[i] >= '0' && r[i] <= '9'; i++ {
		n = n*10 + int(r[i]-'0')
		if n > maxFormatWidth {
			return 0, nil, fmt.Errorf("%s too large (at most %d)", what, maxFormatWidth)
		}
	}
	if i == 0 {
		return -1, r, nil
	}
	return n, r[i:], nil
}

// checkGrouping fails for a grouping the type does not take, and sets
// groupEvery.
func (sp *fmtSpec) checkGrouping() error {
	if sp.grouping == 0 {
		return nil
	}
	sp.groupEvery = 3
	switch sp.typ {
	case 'd', 'e', 'f', 'g', 'E', 'G', '%', 'F', 0:
		return nil
	case 'b', 'o', 'x', 'X':
		if sp.grouping == '_' {
			sp.groupEvery = 4
			return nil
		}
	}
	return fmt.Errorf("cannot specify '%c' with '%c'", sp.grouping, sp.typ)
}

// formatString formats s by spec.
func formatString(s, spec string) (string, error) {
	sp, err := parseSpec(spec, 's')
	if err == nil {
		err = sp.checkString()
	}
	if err != nil {
		return "", specError(spec, "string", err)
	}
	if sp.precision >= 0 && utf8.RuneCountInString(s) > sp.precision {
		r := []rune(s)
		s = string(r[:sp.precision])
	}
	if sp.align == 0 {
		sp.align = '<'
	}
	return pad(s, "", sp), nil
}

// checkString fails for what a string spec must not have.
func (sp fmtSpec) checkString() error {
	switch {
	case sp.typ != 's':
		return fmt.Errorf("unknown format code '%c' for string (strings take only 's')", sp.typ)
	case sp.sign != 0:
		return fmt.Errorf("sign not allowed in string format specifier")
	case sp.noNegZero:
		return fmt.Errorf("negative zero coercion (z) not allowed in string format specifier")
	case sp.alt:
		return fmt.Errorf("alternate form (#) not allowed in string format specifier")
	case sp.align == '=':
		return fmt.Errorf("'=' alignment not allowed in string format specifier")
	}
	return nil
}

// pad returns head + body padded to the spec's width: head (a sign and a
// prefix) stays left of '=' padding.
func pad(body, head string, sp fmtSpec) string {
	n := sp.width - utf8.RuneCountInString(head) - utf8.RuneCountInString(body)
	if n <= 0 {
		return head + body
	}
	fill := string(sp.fill)
	switch sp.align {
	case '<':
		return head + body + strings.Repeat(fill, n)
	case '^':
		return strings.Repeat(fill, n/2) + head + body + strings.Repeat(fill, n-n/2)
	case '=':
		return head + strings.Repeat(fill, n) + body
	}
	return strings.Repeat(fill, n) + head + body
}

// A numeral is a number split as CPython lays it out: sign, prefix
// (0x…), integer digits (which grouping and zero padding apply to) and
// the rest (decimal point, fraction, exponent, %, or the character of c).
type numeral struct {
	sign, prefix, digits, rest string
}

// layout returns the numeral padded and grouped by spec.
func (n numeral) layout(sp fmtSpec) string {
	if sp.align == 0 {
		sp.align = '>'
	}
	head := n.sign + n.prefix
	minWidth := 0
	if sp.fill == '0' && sp.align == '=' {
		minWidth = sp.width - len(head) - utf8.RuneCountInString(n.rest)
	}
	digits := n.digits
	if digits != "" {
		digits = group(digits, sp.groupEvery, string(sp.grouping), minWidth)
	}
	return pad(digits+n.rest, head, sp)
}

// group inserts sep between groups of every digits from the right, and
// pads with zeros (grouped too) to at least minWidth characters, as
// CPython's _PyUnicode_InsertThousandsGrouping does; every is 0 for no
// grouping.
func group(digits string, every int, sep string, minWidth int) string {
	if every == 0 {
		if z := minWidth - len(digits); z > 0 {
			return strings.Repeat("0", z) + digits
		}
		return digits
	}
	var parts []string // from the right
	remaining := len(digits)
	for {
		n := min(every, max(remaining, minWidth, 1))
		chars := min(remaining, n)
		parts = append(parts, strings.Repeat("0", n-chars)+digits[remaining-chars:remaining])
		remaining -= chars
		minWidth -= n
		if remaining <= 0 && minWidth <= 0 {
			break
		}
		minWidth -= len(sep)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
		if i > 0 {
			b.WriteString(sep)
		}
	}
	return b.String()
}

// signOf returns the sign to print for a number, negative or not.
func signOf(negative bool, sign rune) string {
	switch {
	case negative:
		return "-"
	case sign == '+' || sign == ' ':
		return string(sign)
	}
	return ""
}

// formatInt formats x (whose Python type is typ, "int" or "bool") by spec.
func formatInt(x starlark.Int, spec, typ string) (string, error) {
	sp, err := parseSpec(spec, 'd')
	if err != nil {
		return "", specError(spec, typ, err)
	}
	switch sp.typ {
	case 'e', 'E', 'f', 'F', 'g', 'G', '%':
		f, err := finiteFloat(x)
		if err == nil {
			var s string
			if s, err = formatFloat(f, sp); err == nil {
				return s, nil
			}
		}
		return "", specError(spec, typ, err)
	}
	s, err := intNumeral(x, sp)
	if err != nil {
		return "", specError(spec, typ, err)
	}
	return s.layout(sp), nil
}

// intNumeral splits x as spec's integer type lays it out.
func intNumeral(x starlark.Int, sp fmtSpec) (numeral, error) {
	switch {
	case sp.precision >= 0:
		return numeral{}, fmt.Errorf("precision not allowed in integer format specifier")
	case sp.noNegZero:
		return numeral{}, fmt.Errorf("negative zero coercion (z) not allowed in integer format specifier")
	}
	bi := x.BigInt()
	if sp.typ == 'c' {
		switch {
		case sp.sign != 0:
			return numeral{}, fmt.Errorf("sign not allowed with integer format specifier 'c'")
		case sp.alt:
			return numeral{}, fmt.Errorf("alternate form (#) not allowed with integer format specifier 'c'")
		case bi.Sign() < 0 || bi.Cmp(big.NewInt(utf8.MaxRune)) > 0:
			return numeral{}, fmt.Errorf("%%c arg not in range(0x110000)")
		}
		return numeral{rest: string(rune(bi.Int64()))}, nil
	}
	base, prefix := 10, ""
	switch sp.typ {
	case 'b':
		base, prefix = 2, "0b"
	case 'o':
		base, prefix = 8, "0o"
	case 'x':
		base, prefix = 16, "0x"
	case 'X':
		base, prefix = 16, "0X"
	case 'd', 'n':
	default:
		return numeral{}, fmt.Errorf("unknown format code '%c' (integers take b c d o x X n e E f F g G %%)", sp.typ)
	}
	if !sp.alt {
		prefix = ""
	}
	digits := new(big.Int).Abs(bi).Text(base)
	if sp.typ == 'X' {
		digits = strings.ToUpper(digits)
	}
	return numeral{sign: signOf(bi.Sign() < 0, sp.sign), prefix: prefix, digits: digits}, nil
}

// formatFloat formats f by sp, as CPython's format_float_internal.
func formatFloat(f float64, sp fmtSpec) (string, error) {
	typ, prec, addDot0 := sp.typ, sp.precision, false
	switch typ {
	case 0:
		typ, addDot0 = 'r', true
		if prec >= 0 {
			typ = 'g'
		}
	case 'n':
		typ = 'g'
	case 'e', 'E', 'f', 'F', 'g', 'G':
	case '%':
		typ, f = 'f', f*100
	default:
		return "", fmt.Errorf("unknown format code '%c' for float (floats take e E f F g G n %%)", sp.typ)
	}
	if prec < 0 {
		prec = 6
	}
	body, negative := floatText(f, typ, prec, addDot0, sp.alt, sp.noNegZero)
	if sp.typ == '%' {
		body += "%"
	}
	i := 0
	for i < len(body) && body[i] >= '0' && body[i] <= '9' {
		i++
	}
	n := numeral{sign: signOf(negative, sp.sign), digits: body[:i], rest: body[i:]}
	return n.layout(sp), nil
}

// floatText returns the text of |f| for a type of e E f F g G or r (repr),
// and whether to print a minus sign, as CPython's format_float_short.
func floatText(f float64, typ rune, prec int, addDot0, alt, noNegZero bool) (string, bool) {
	upper := typ == 'E' || typ == 'F' || typ == 'G'
	lower := typ | 0x20
	if upper {
		typ = lower
	}
	switch {
	case math.IsNaN(f):
		return caseOf("nan", upper), false
	case math.IsInf(f, 0):
		return caseOf("inf", upper), f < 0
	}
	negative := math.Signbit(f)
	f = math.Abs(f)
	var digits string
	var decpt int
	switch typ {
	case 'e':
		digits, decpt = sigDigits(f, prec+1)
	case 'f':
		digits, decpt = fixedDigits(f, prec)
	case 'g':
		prec = max(prec, 1)
		digits, decpt = sigDigits(f, prec)
	case 'r':
		digits, decpt = sigDigits(f, -1)
	}
	if noNegZero && digits == "0" {
		negative = false
	}
	useExp := false
	end := len(digits) // the end of the digits shown, zeros past the real ones
	switch typ {
	case 'e':
		useExp, end = true, prec+1
	case 'f':
		end = decpt + prec
	case 'g':
		limit := prec
		if addDot0 {
			limit--
		}
		useExp = decpt <= -4 || decpt > limit
		if alt {
			end = prec
		}
	case 'r':
		useExp = decpt <= -4 || decpt > 16
	}
	exp := 0
	if useExp {
		exp, decpt = decpt-1, 1
	}
	start := min(decpt-1, 0)
	if !useExp && addDot0 {
		end = max(end, decpt+1)
	} else {
		end = max(end, decpt)
	}
	var b strings.Builder
	for i := start; i < end; i++ {
		if i == decpt {
			b.WriteByte('.')
		}
		if i >= 0 && i < len(digits) {
			b.WriteByte(digits[i])
		} else {
			b.WriteByte('0')
		}
	}
	if decpt == end {
		b.WriteByte('.')
	}
	s := b.String()
	if !alt {
		s = strings.TrimSuffix(s, ".")
	}
	if useExp {
		e := fmt.Sprintf("e%+03d", exp)
		s += caseOf(e, upper)
	}
	return s, negative
}

// caseOf returns s in upper case if upper.
func caseOf(s string, upper bool) string {
	if upper {
		return strings.ToUpper(s)
	}
	return s
}

// sigDigits returns the decimal digits of f >= 0 rounded to n significant
// digits (all that round-trip if n < 0), without trailing zeros, and the
// position of the decimal point: f ≈ 0.digits × 10**decpt. Zero is "0", 1.
func sigDigits(f float64, n int) (string, int) {
	s := strconv.FormatFloat(f, 'e', n-1, 64)
	if n < 0 {
		s = strconv.FormatFloat(f, 'e', -1, 64)
	}
	mant, e, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(e)
	digits := strings.TrimRight(strings.Replace(mant, ".", "", 1), "0")
	if digits == "" {
		return "0", 1
	}
	return digits, exp + 1
}

// fixedDigits returns the decimal digits of f >= 0 rounded to prec
// places after the point, as sigDigits does.
func fixedDigits(f float64, prec int) (string, int) {
	s := strconv.FormatFloat(f, 'f', prec, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	digits, decpt := intPart+frac, len(intPart)
	trimmed := strings.TrimLeft(digits, "0")
	decpt -= len(digits) - len(trimmed)
	digits = strings.TrimRight(trimmed, "0")
	if digits == "" {
		return "0", 1
	}
	return digits, decpt
}
