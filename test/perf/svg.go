package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

// chart is a grouped bar chart: one group per category, one bar per series.
type chart struct {
	title      string
	yLabel     string
	categories []string
	series     []string
	colors     []string    // one per series
	values     [][]float64 // [category][series]
}

// Layout of the chart, in SVG user units.
const (
	svgWidth   = 760
	svgHeight  = 400
	plotLeft   = 70
	plotRight  = 20
	plotTop    = 50
	plotBottom = 80
)

// svg renders c with nothing but text: no dependency, no script, no font
// file, so that the README can show it as is.
func (c chart) svg() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	esc := html.EscapeString

	top := 0.0
	for _, row := range c.values {
		for _, v := range row {
			if !math.IsNaN(v) {
				top = math.Max(top, v)
			}
		}
	}
	step := niceStep(top / 5)
	yMax := math.Ceil(top/step) * step
	if yMax == 0 {
		yMax = 1
	}
	plotW := float64(svgWidth - plotLeft - plotRight)
	plotH := float64(svgHeight - plotTop - plotBottom)
	y := func(v float64) float64 { return plotTop + plotH*(1-v/yMax) }

	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, svgHeight, svgWidth, svgHeight)
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p(`<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", plotLeft, esc(c.title))
	// Grid and y axis.
	for v := 0.0; v <= yMax+step/2; v += step {
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e0e0e0"/>`+"\n", plotLeft, y(v), svgWidth-plotRight, y(v))
		p(`<text x="%d" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n", plotLeft-6, y(v)+4, esc(shortNumber(v)))
	}
	p(`<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle" fill="#555">%s</text>`+"\n",
		plotTop+plotH/2, esc(c.yLabel))
	// Bars.
	groupW := plotW / float64(max(len(c.categories), 1))
	barW := groupW * 0.8 / float64(max(len(c.series), 1))
	for i, cat := range c.categories {
		x0 := plotLeft + groupW*float64(i) + groupW*0.1
		for j := range c.series {
			v := c.values[i][j]
			if math.IsNaN(v) {
				continue
			}
			x := x0 + barW*float64(j)
			p(`<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s req/s</title></rect>`+"\n",
				x+1, y(v), barW-2, plotTop+plotH-y(v), c.colors[j%len(c.colors)], esc(cat), esc(c.series[j]), thousands(v))
			p(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11">%s</text>`+"\n", x+barW/2, y(v)-4, esc(shortNumber(v)))
		}
		p(`<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x0+groupW*0.4, svgHeight-plotBottom+18, esc(cat))
	}
	p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#333"/>`+"\n", plotLeft, y(0), svgWidth-plotRight, y(0))
	// Legend.
	lx := float64(plotLeft)
	for j, s := range c.series {
		p(`<rect x="%.1f" y="%d" width="12" height="12" fill="%s"/>`+"\n", lx, svgHeight-28, c.colors[j%len(c.colors)])
		p(`<text x="%.1f" y="%d">%s</text>`+"\n", lx+18, svgHeight-18, esc(s))
		lx += 30 + 8*float64(len(s))
	}
	p("</svg>\n")
	return b.Bytes()
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= x {
			return m * pow
		}
	}
	return 10 * pow
}

// shortNumber prints 12345 as "12.3k" and 500 as "500".
func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
