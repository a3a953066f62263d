// The network graph: items (circles) and the values that link them (squares), laid out by
// d3's force layout from the page's JSON. The same data is in the tables below the graph.
(function () {
  "use strict";
  var svg = document.getElementById("network-graph");
  if (!svg || !window.d3) { return; }
  var width = +svg.getAttribute("width"), height = +svg.getAttribute("height");
  d3.json(svg.getAttribute("data-src"), function (error, graph) {
    if (error) { svg.setAttribute("aria-label", "The graph could not be loaded."); return; }
    var index = {};
    graph.nodes.forEach(function (n, i) { index[n.id] = i; });
    var links = graph.edges.map(function (e) {
      return { source: index[e.source], target: index[e.target], kind: e.kind };
    });
    var root = d3.select(svg);
    var force = d3.layout.force().nodes(graph.nodes).links(links)
      .size([width, height]).charge(-260).linkDistance(70).start();
    var edge = root.selectAll("line").data(links).enter().append("line")
      .attr("class", function (d) { return "edge " + d.kind; });
    var node = root.selectAll("g.node").data(graph.nodes).enter().append("g")
      .attr("class", function (d) { return "node " + d.type; })
      .attr("data-id", function (d) { return d.id; })
      .call(force.drag);
    node.filter(function (d) { return d.type === "item"; }).append("circle").attr("r", 9);
    node.filter(function (d) { return d.type === "value"; }).append("rect")
      .attr("x", -7).attr("y", -7).attr("width", 14).attr("height", 14);
    node.append("title").text(function (d) { return d.label; });
    node.append("text").attr("dx", 12).attr("dy", 4).text(function (d) { return d.label; });
    force.on("tick", function () {
      edge.attr("x1", function (d) { return d.source.x; }).attr("y1", function (d) { return d.source.y; })
        .attr("x2", function (d) { return d.target.x; }).attr("y2", function (d) { return d.target.y; });
      node.attr("transform", function (d) { return "translate(" + d.x + "," + d.y + ")"; });
    });
    svg.setAttribute("data-rendered", String(graph.nodes.length));
  });
})();
