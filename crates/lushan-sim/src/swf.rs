//! The Standard Workload Format of the Parallel Workloads Archive: `;`
//! header lines (`; MaxProcs: 128`, possibly with a comment after the
//! number), then one job per line with 18 whitespace-separated fields, `-1`
//! for missing values.
//!
//! Reading never fails: a line that is not a job is counted in
//! [`Trace::malformed`] with its line number and why, and the rest is read.

/// The fields of one job record that the simulator uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Field 1, the job number.
    pub id: i64,
    /// Field 2, seconds from the start of the log.
    pub submit: i64,
    /// Field 3, as recorded (not used for scheduling).
    pub wait: i64,
    /// Field 4, the real runtime in seconds (`-1` unknown).
    pub run: i64,
    /// Field 5.
    pub allocated_procs: i64,
    /// Field 8 (`-1` unknown).
    pub requested_procs: i64,
    /// Field 9, the user's estimate in seconds (`-1` unknown).
    pub requested_time: i64,
    /// Field 11.
    pub status: i64,
    /// Field 12.
    pub user: i64,
    /// Field 13.
    pub group: i64,
}

/// The header values the simulator reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub max_procs: Option<u64>,
    pub max_nodes: Option<u64>,
}

/// A line that could not be read as a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    pub line: usize,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub header: Header,
    pub records: Vec<Record>,
    pub malformed: Vec<Malformed>,
}

impl Trace {
    /// The machine size the header gives: MaxProcs, else MaxNodes.
    pub fn header_procs(&self) -> Option<u64> {
        self.header.max_procs.or(self.header.max_nodes)
    }
}

/// Reads a whole SWF text.
pub fn parse(text: &str) -> Trace {
    let mut trace = Trace::default();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix(';') {
            read_header_line(comment, &mut trace.header);
            continue;
        }
        match parse_record(trimmed) {
            Ok(record) => trace.records.push(record),
            Err(reason) => trace.malformed.push(Malformed { line: number, reason }),
        }
    }
    trace
}

fn read_header_line(comment: &str, header: &mut Header) {
    let Some((key, value)) = comment.split_once(':') else { return };
    let slot = match key.trim() {
        "MaxProcs" => &mut header.max_procs,
        "MaxNodes" => &mut header.max_nodes,
        _ => return,
    };
    // "80640   (thin nodes)": the leading integer, whatever follows it.
    let digits: String = value.trim_start().chars().take_while(char::is_ascii_digit).collect();
    if let Ok(n) = digits.parse::<u64>()
        && n > 0
    {
        *slot = Some(n);
    }
}

fn parse_record(line: &str) -> Result<Record, String> {
    let mut fields = [0i64; 18];
    let mut count = 0;
    for token in line.split_whitespace() {
        if count == 18 {
            return Err(format!("more than 18 fields (\"{token}\" is the 19th)"));
        }
        // Some logs write times as floats ("123.0"): their integer part.
        let value = token
            .parse::<i64>()
            .or_else(|_| token.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v as i64).ok_or(()))
            .map_err(|()| format!("field {} is \"{token}\", not a number", count + 1))?;
        fields[count] = value;
        count += 1;
    }
    if count < 18 {
        return Err(format!("{count} fields, a job record has 18"));
    }
    Ok(Record {
        id: fields[0],
        submit: fields[1],
        wait: fields[2],
        run: fields[3],
        allocated_procs: fields[4],
        requested_procs: fields[7],
        requested_time: fields[8],
        status: fields[10],
        user: fields[11],
        group: fields[12],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_with_comments_and_malformed_lines_are_read() {
        let text = "; MaxNodes: 5544\n; MaxProcs: 93312  (80640 in thin nodes)\n\
                    1 0 5 100 4 -1 -1 4 200 -1 1 7 3 -1 -1 -1 -1 -1\n\
                    2 10 oops\n\
                    3 20 0 50.0 2 -1 -1 -1 -1 -1 1 8 3 -1 -1 -1 -1 -1\n";
        let trace = parse(text);
        assert_eq!(trace.header, Header { max_procs: Some(93312), max_nodes: Some(5544) });
        assert_eq!(trace.records.len(), 2);
        assert_eq!(trace.records[1].run, 50);
        assert_eq!(trace.records[1].requested_procs, -1);
        assert_eq!(trace.malformed.len(), 1);
        assert_eq!(trace.malformed[0].line, 4);
        assert!(trace.malformed[0].reason.contains("\"oops\""), "{:?}", trace.malformed);
    }

    #[test]
    fn max_nodes_stands_in_for_a_missing_max_procs() {
        let trace = parse("; MaxNodes: 256\n");
        assert_eq!(trace.header_procs(), Some(256));
    }
}
