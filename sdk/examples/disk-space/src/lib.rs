//! `disk-space`: a disk of the installation's server is running out of space.
//!
//! The report format has no disk section, but agents may send one per disk
//! (`<disk path="D:\Kodeks" free-mb="812" total-mb="102400"/>`): a check reads any element
//! by path, whether the host knows it or not. Each disk low on space is its own finding
//! (`disk-low:D:\Kodeks`): a warning below `min-free-mb` or `min-free-percent`, critical
//! below `critical-free-mb`. A report without disks (a status agent's) leaves the last
//! verdict standing. Findings are in English and Russian.

use reveille_sdk::{Check, Descriptor, Element, Finding, Input, Output, Severity, Trigger};

pub struct DiskSpace;

impl Check for DiskSpace {
    fn describe() -> Descriptor {
        Descriptor::new(
            "disk-space",
            env!("CARGO_PKG_VERSION"),
            "Free disk space below a minimum",
        )
        .on(Trigger::Report)
        .setting_integer(
            "min-free-mb",
            1024,
            0..,
            "Warn when a disk has less free space than this (MB)",
        )
        .setting_integer(
            "min-free-percent",
            5,
            0..=100,
            "Warn when a disk has less than this share of its size free",
        )
        .setting_integer(
            "critical-free-mb",
            256,
            0..,
            "Critical when a disk has less free space than this (MB)",
        )
    }

    fn evaluate(input: &Input) -> Result<Output, String> {
        let min_mb: u64 = input.config_parsed("min-free-mb")?;
        let min_percent: u64 = input.config_parsed("min-free-percent")?;
        let critical_mb: u64 = input.config_parsed("critical-free-mb")?;
        let Some(report) = input.report() else {
            return Ok(Output::new());
        };
        let disks = report.select("disk");
        if disks.is_empty() {
            return Ok(Output::new().carry_forward(input));
        }
        let findings = disks
            .iter()
            .filter_map(|disk| {
                let low = Low::of(disk, min_mb, min_percent)?;
                let severity = if low.free_mb < critical_mb {
                    Severity::Critical
                } else {
                    Severity::Warning
                };
                Some(low.finding(severity, min_mb))
            })
            .collect();
        Ok(Output::new().conclude(input, findings))
    }
}

/// A disk with too little free space.
struct Low {
    path: String,
    free_mb: u64,
    /// Free share of the disk, when the report gives its size.
    percent: Option<u64>,
}

impl Low {
    /// The disk, if it is low on space.
    fn of(disk: &Element, min_mb: u64, min_percent: u64) -> Option<Low> {
        let free_mb: u64 = disk.attr_parsed("free-mb")?;
        let percent = disk
            .attr_parsed::<u64>("total-mb")
            .filter(|total| *total > 0)
            .map(|total| free_mb * 100 / total);
        let low = free_mb < min_mb || percent.is_some_and(|p| p < min_percent);
        low.then(|| Low {
            path: disk.attr("path").unwrap_or("?").to_string(),
            free_mb,
            percent,
        })
    }

    fn finding(&self, severity: Severity, min_mb: u64) -> Finding {
        let Low {
            path,
            free_mb,
            percent,
        } = self;
        let share = percent.map(|p| format!(" ({p}%)")).unwrap_or_default();
        Finding::new(
            format!("disk-low:{path}"),
            severity,
            format!("Only {free_mb} MB free on {path}{share}"),
        )
        .details(format!(
            "Disk {path} has {free_mb} MB free{share}; the minimum is {min_mb} MB. When it \
             fills up, content updates stop and the service may fail: free space or grow \
             the disk."
        ))
        .summary_in("ru", format!("Свободно лишь {free_mb} МБ на {path}{share}"))
        .details_in(
            "ru",
            format!(
                "На диске {path} свободно {free_mb} МБ{share}; минимум {min_mb} МБ. Когда он \
                 заполнится, обновления перестанут ставиться, а служба может упасть: \
                 освободите место или увеличьте диск."
            ),
        )
        .label("path", path.clone())
        .label("free-mb", free_mb.to_string())
    }
}

reveille_sdk::export_check!(DiskSpace);

#[cfg(test)]
mod tests {
    use super::*;
    use reveille_sdk::testing::Case;

    fn report(disks: &str) -> String {
        format!(
            r#"<report schema="1" agent="report-agent" generated-at="2026-11-20T20:00:00+03:00">
                 {disks}
               </report>"#
        )
    }

    #[test]
    fn each_low_disk_is_its_own_finding_by_size_or_share() {
        let xml = report(
            r#"<disk path="C:" free-mb="100" total-mb="40000"/>
               <disk path="D:\Kodeks" free-mb="3000" total-mb="102400"/>
               <disk path="E:" free-mb="50000" total-mb="100000"/>"#,
        );
        let outcome = Case::report(&xml).run::<DiskSpace>();
        assert_eq!(outcome.keys(), ["disk-low:C:", "disk-low:D:\\Kodeks"]);
        let c = outcome.finding("disk-low:C:");
        assert_eq!(c.severity, Severity::Critical);
        assert_eq!(c.summary, "Only 100 MB free on C: (0%)");
        assert_eq!(c.summary_for("ru"), "Свободно лишь 100 МБ на C: (0%)");
        let d = outcome.finding("disk-low:D:\\Kodeks");
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(d.summary, "Only 3000 MB free on D:\\Kodeks (2%)");
    }

    #[test]
    fn thresholds_are_settings_and_a_disk_without_a_size_is_judged_by_megabytes() {
        let xml = report(r#"<disk path="D:" free-mb="800"/>"#);
        assert_eq!(
            Case::report(&xml).run::<DiskSpace>().keys(),
            ["disk-low:D:"]
        );
        let relaxed = Case::report(&xml).setting("min-free-mb", "500");
        relaxed.run::<DiskSpace>().assert_quiet();
        let refused = Case::report(&xml)
            .setting("min-free-percent", "150")
            .try_run::<DiskSpace>()
            .err()
            .unwrap();
        assert!(refused.contains("from 0 to 100"), "{refused}");
    }

    #[test]
    fn a_report_without_disks_keeps_the_verdict_and_a_freed_disk_resolves() {
        let low = Case::report(&report(r#"<disk path="D:" free-mb="10"/>"#)).run::<DiskSpace>();
        let status = report("").replace("report-agent", "status-agent");
        assert_eq!(
            low.then_report(&status).run::<DiskSpace>().keys(),
            ["disk-low:D:"]
        );
        let freed = low
            .then_report(&report(r#"<disk path="D:" free-mb="90000"/>"#))
            .run::<DiskSpace>();
        freed.assert_quiet();
    }
}
