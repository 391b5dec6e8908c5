/* Campaign dashboards (templates/campaigns/dashboard.html): draws the ECharts charts from the
   #dashboard-data json_script block, opens a region's dashboard when its bar is clicked, prints,
   and keeps every chart fitted to its box on a phone, a desk and paper. */
(function () {
  "use strict";

  document.querySelectorAll("[data-action=print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var charts = [];
  var muted = "#6c757d";

  function narrow() { return window.matchMedia("(max-width: 576px)").matches; }

  function hasData(series) {
    return series.some(function (s) { return s.data.some(function (v) { return v; }); });
  }

  function empty() {
    return { title: { text: data.text.noData, left: "center", top: "middle",
                      textStyle: { color: muted, fontSize: 14, fontWeight: "normal" } } };
  }

  // Horizontal bars: long Chinese names read well on a phone, and the box grows with the rows.
  function bars(element, names, series, title) {
    element.style.height = Math.max(220, names.length * 22 * Math.max(1, series.length * 0.7) + 90) + "px";
    if (!names.length || !hasData(series)) return empty();
    return {
      title: title ? { text: title, textStyle: { fontSize: 14 } } : undefined,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: series.length > 1 ? { top: title ? 24 : 0, type: "scroll" } : undefined,
      grid: { left: 8, right: 40, top: (title ? 28 : 0) + (series.length > 1 ? 28 : 8), bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: names,
               axisLabel: { width: narrow() ? 88 : 170, overflow: "truncate" } },
      series: series.map(function (s, index) {
        return { name: s.name, type: "bar", data: s.data, barMaxWidth: 18,
                 label: { show: true, position: "right", fontSize: 11 },
                 itemStyle: index === 1 && series.length === 2 && s.target ? { opacity: 0.45 } : undefined };
      })
    };
  }

  function regionOption(element) {
    var chart = data.regions.charts[Number(element.dataset.index)];
    var series = chart.series.map(function (s, index) {
      return { name: s.name, data: s.data, target: index === 1 };
    });
    return bars(element, data.regions.names, series, chart.title);
  }

  function monthlyOption() {
    var monthly = data.monthly;
    if (!monthly.months.length || !hasData(monthly.series)) return empty();
    // Person-times run to hundreds where firms and visits count in tens: a second axis on the right.
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 16, right: 24, top: 56, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: monthly.months, boundaryGap: false },
      yAxis: [{ type: "value", minInterval: 1 },
              { type: "value", minInterval: 1, splitLine: { show: false },
                name: monthly.series[monthly.series.length - 1].name, nameTextStyle: { align: "right" } }],
      series: monthly.series.map(function (s, index) {
        return { name: s.name, type: "line", data: s.data, smooth: false, symbolSize: 6,
                 yAxisIndex: index === monthly.series.length - 1 ? 1 : 0 };
      })
    };
  }

  // A size class keeps its colour from one region's pie to the next.
  var sizeColours = { micro: "#5470c6", small: "#91cc75", medium: "#fac858", large: "#ee6666" };

  function sizeOption() {
    if (!data.size.some(function (item) { return item.value; })) return empty();
    var slices = data.size.map(function (item) {
      return { name: item.name, value: item.value, itemStyle: { color: sizeColours[item.key] || muted } };
    });
    return {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: narrow() ? ["30%", "60%"] : ["35%", "68%"], center: ["50%", "45%"],
                 data: slices, label: { formatter: "{b}\n{c} ({d}%)" } }]
    };
  }

  var builders = {
    region: regionOption,
    monthly: monthlyOption,
    industry: function (element) { return bars(element, data.industry.names, data.industry.series); },
    size: sizeOption,
    "service-area": function (element) { return bars(element, data.serviceArea.names, data.serviceArea.series); }
  };

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var build = builders[element.dataset.chart];
    if (!build) return;
    var option = build(element);
    // SVG draws crisply on paper and scales with the page when printed.
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option);
    if (element.dataset.chart === "region") {
      chart.on("click", function (params) {
        var url = data.regions.urls[params.dataIndex];
        if (url) window.location.href = url;
      });
      element.style.cursor = "pointer";
    }
    charts.push(chart);
  });

  function resizeAll() { charts.forEach(function (chart) { chart.resize(); }); }

  if (window.ResizeObserver) {
    var observer = new ResizeObserver(function () { window.requestAnimationFrame(resizeAll); });
    document.querySelectorAll("[data-chart]").forEach(function (element) { observer.observe(element); });
  } else {
    window.addEventListener("resize", resizeAll);
  }
  // Paper is narrower or wider than the screen: refit before printing and after.
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
  var printMedia = window.matchMedia("print");
  if (printMedia.addEventListener) printMedia.addEventListener("change", resizeAll);
})();
