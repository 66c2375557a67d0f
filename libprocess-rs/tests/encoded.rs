//! A message encoded once ([`Encoded`]) and sent many times arrives like an ordinary send,
//! to a process on another node (the stored bytes) and on the same node (the value).

mod common;

use common::*;
use libprocess::Encoded;

#[tokio::test]
async fn encoded_message_sent_repeatedly_arrives_each_time_remote_and_local() {
    let a = node().await;
    let b = node().await;
    let (rec_b, mut rxb) = Recorder::new();
    let pb = b.spawn_named("receiver", rec_b).unwrap();
    started(&mut rxb).await;
    let (rec_a, mut rxa) = Recorder::new();
    let pa = a.spawn_named("local", rec_a).unwrap();
    started(&mut rxa).await;

    let note = Encoded::new(Note(41)).unwrap();
    assert_eq!(note.message(), &Note(41));
    assert_eq!(
        note.payload().as_ref(),
        postcard::to_allocvec(&Note(41)).unwrap().as_slice()
    );
    for _ in 0..3 {
        a.send_encoded_from(None, pb.upid(), &note).unwrap();
    }
    for _ in 0..3 {
        assert_eq!(next(&mut rxb).await, Event::Note { from: None, n: 41 });
    }
    a.send_encoded_from(Some(pa.upid()), pb.upid(), &note)
        .unwrap();
    assert_eq!(
        next(&mut rxb).await,
        Event::Note {
            from: Some(pa.upid().clone()),
            n: 41
        }
    );
    a.send_encoded_from(None, pa.upid(), &note).unwrap();
    assert_eq!(next(&mut rxa).await, Event::Note { from: None, n: 41 });
    a.shutdown().await;
    b.shutdown().await;
}
