package io.spillway.deploy;

import org.junit.jupiter.api.Test;

class ChartSmokeTest {
    @Test
    void prints() {
        RenderedChart chart = RenderedChart.render();
        System.out.println(chart.yaml());
        System.out.println(chart.kinds());
    }
}
